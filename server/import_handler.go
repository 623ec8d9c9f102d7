package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"labelstudio/server/importer"
	"labelstudio/store"
)

// importTasks: POST /api/project/import (api.md §4.3). The body is read as
// a stream: a multipart upload of files, a url= form, or a JSON body of any
// size. Items are validated and stored in chunks as they come; the import
// is all-or-nothing.
func (s *Server) importTasks(c *fiber.Ctx) error {
	start := time.Now()
	limits := s.importLimits()
	if cl := c.Request().Header.ContentLength(); cl > 0 && int64(cl) > limits.BodyLimit {
		c.Context().SetConnectionClose()
		return envelopeError(fiber.StatusRequestEntityTooLarge, importBodyTooLarge(limits.BodyLimit))
	}
	body := &limitedBody{r: s.requestBody(c), limit: limits.BodyLimit}
	defer finishBody(c, body)

	p, cfg, err := s.project(c)
	if err != nil {
		return err
	}
	skip := c.QueryBool("skip_duplicates")
	run := newImportRun(s.st, p.Name, cfg, store.ImportOptions{SkipDuplicates: skip}, limits, s.opts.UploadDir)
	in := importInputOf(c)
	var input io.Reader = body
	if cl := c.Request().Header.ContentLength(); cl > 0 && cl <= pipeBodyLimit && in.kind == inputJSON {
		// A small JSON body (the usual scripted import of some thousand
		// tasks) is read whole first; then it is parsed and stored at once.
		data, err := io.ReadAll(body)
		if err != nil {
			return importErrorf("load_tasks: cannot read the request body: %v", err)
		}
		input = bytes.NewReader(data)
		run.startPipe()
	}
	formats, err := s.readImport(in, run, input)
	res, err := run.finish(err)
	if err != nil {
		var ie *ImportError
		var tl *bodyTooLargeError
		switch {
		case errors.As(err, &tl):
			c.Context().SetConnectionClose()
			return envelopeError(fiber.StatusRequestEntityTooLarge, importBodyTooLarge(tl.limit))
		case errors.As(err, &ie):
			return importError(ie.Messages...)
		}
		return err
	}
	if formats == nil {
		formats = map[string]int{}
	}
	out := fiber.Map{
		"task_count":       res.Stored,
		"completion_count": res.Completions,
		"prediction_count": res.Predictions,
		"duration":         time.Since(start).Seconds(),
		"formats":          formats,
		"new_task_ids":     nil,
	}
	if skip {
		out["skipped_duplicates"] = res.Skipped
	}
	if res.Stored > streamIDsOver {
		return sendImportAnswer(c, out, res)
	}
	out["new_task_ids"] = res.TaskIDs()
	return c.Status(fiber.StatusCreated).JSON(out)
}

// pipeBodyLimit is the largest JSON body an import reads whole and then
// parses and stores at the same time.
const pipeBodyLimit = 4 << 20

// importInput is what an import request's Content-Type says its body is.
type importInput struct {
	kind     int // one of the input* constants
	boundary string
}

const (
	inputNone = iota
	inputMultipart
	inputForm
	inputJSON
)

func importInputOf(c *fiber.Ctx) importInput {
	ct := string(c.Request().Header.ContentType())
	mt, params, _ := mime.ParseMediaType(ct)
	switch mt = strings.ToLower(mt); {
	case mt == fiber.MIMEMultipartForm:
		return importInput{kind: inputMultipart, boundary: params["boundary"]}
	case mt == fiber.MIMEApplicationForm:
		return importInput{kind: inputForm}
	case strings.Contains(strings.ToLower(ct), fiber.MIMEApplicationJSON):
		return importInput{kind: inputJSON}
	}
	return importInput{kind: inputNone}
}

// streamIDsOver is the number of new task ids from which the answer is
// written as a stream rather than built in memory (5 million ids are some
// 40 MB of JSON).
const streamIDsOver = 100_000

// sendImportAnswer writes the 201 answer with its new_task_ids streamed.
func sendImportAnswer(c *fiber.Ctx, out fiber.Map, res store.ImportResult) error {
	delete(out, "new_task_ids")
	head, err := marshalJSON(out)
	if err != nil {
		return err
	}
	head = append(head[:len(head)-1], `,"new_task_ids":[`...)
	c.Status(fiber.StatusCreated)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		w.Write(head) //nolint:errcheck // a broken connection ends the answer
		var num []byte
		first := true
		res.EachID(func(id int64) {
			if !first {
				w.WriteByte(',') //nolint:errcheck
			}
			first = false
			num = strconv.AppendInt(num[:0], id, 10)
			w.Write(num) //nolint:errcheck
		})
		w.WriteString("]}") //nolint:errcheck
		w.Flush()           //nolint:errcheck
	})
	return nil
}

// importLimits are the server's import limits: Options.Import, with
// Options.BodyLimit as the body limit when Import does not set one.
func (s *Server) importLimits() ImportLimits {
	l := s.opts.Import
	if l.BodyLimit <= 0 && s.opts.BodyLimit > 0 {
		l.BodyLimit = int64(s.opts.BodyLimit)
	}
	return l.withDefaults()
}

// readImport reads the request's input into the import and returns the
// formats to report.
func (s *Server) readImport(in importInput, run *importRun, body io.Reader) (map[string]int, error) {
	switch in.kind {
	case inputMultipart:
		return s.importMultipart(run, body, in.boundary)
	case inputForm:
		form, err := readSmallForm(body, int64(s.smallBodyLimit()))
		if err != nil {
			return nil, err
		}
		if u := form.Get("url"); u != "" {
			return s.importURL(run, u)
		}
		return nil, importErrorf("load_tasks: No data found in DATA or in FILES")
	case inputJSON:
		n, err := importJSONBody(run, body)
		return map[string]int{"request": n}, err
	}
	return nil, importErrorf("load_tasks: No data found in DATA or in FILES")
}

func importErrorf(format string, args ...any) error {
	return &ImportError{Messages: []string{fmt.Sprintf(format, args...)}}
}

// importJSONBody reads a JSON body: an object is one task, an array many.
func importJSONBody(run *importRun, body io.Reader) (int, error) {
	br := peekReaders.Get().(*bufio.Reader)
	br.Reset(body)
	defer func() {
		br.Reset(nil)
		peekReaders.Put(br)
	}()
	first := firstByte(br)
	n := 0
	err := importer.JSONItems(br, run.limits.Files.MaxItemSize, func(item []byte) error {
		n++
		if first == '{' && isEmptyObject(item) {
			return importErrorf("load_tasks: No tasks added")
		}
		return run.Item(item)
	})
	var ce *importer.CallbackError
	var nl *importer.NotListError
	var tl *bodyTooLargeError
	switch {
	case err == nil:
		return n, nil
	case errors.As(err, &ce):
		return n, ce.Err
	case errors.As(err, &tl):
		return n, tl
	case errors.Is(err, importer.ErrEmpty):
		return n, importErrorf("load_tasks: request body is not valid JSON: the body is empty")
	case errors.Is(err, importer.ErrNull), errors.As(err, &nl):
		return n, importErrorf("load_tasks: No data found in DATA or in FILES")
	}
	var se *importer.SyntaxError
	var big *importer.TooLargeError
	if errors.As(err, &se) || errors.As(err, &big) {
		return n, importErrorf("load_tasks: request body is not valid JSON: %v", err)
	}
	return n, importErrorf("load_tasks: cannot read the request body: %v", err)
}

// firstByte peeks at the first byte after a byte-order mark and white
// space within the first 64 KiB (0 when there is none).
// peekReaders keep the buffers importJSONBody peeks with.
var peekReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

func firstByte(br *bufio.Reader) byte {
	b, _ := br.Peek(br.Size())
	b = bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func isEmptyObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
}

// importMultipart reads a multipart upload part by part: every part with a
// file name is an import file; a "url" field is used when there is no file.
func (s *Server) importMultipart(run *importRun, body io.Reader, boundary string) (map[string]int, error) {
	if boundary == "" {
		return nil, importErrorf("load_tasks: the multipart body has no boundary")
	}
	proc := run.processor()
	mr := multipart.NewReader(body, boundary)
	files := 0
	urlField := ""
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var tl *bodyTooLargeError
			if errors.As(err, &tl) {
				return nil, tl
			}
			return nil, importErrorf("load_tasks: cannot read the multipart body: %v", err)
		}
		name := part.FileName()
		if name == "" {
			if part.FormName() == "url" {
				b, _ := io.ReadAll(io.LimitReader(part, 64<<10))
				urlField = strings.TrimSpace(string(b))
			}
			part.Close()
			continue
		}
		files++
		err = proc.File(name, part)
		part.Close()
		if err != nil {
			return nil, err
		}
	}
	if files == 0 {
		if urlField != "" {
			return s.importURL(run, urlField)
		}
		return nil, importErrorf("load_tasks: No data found in DATA or in FILES")
	}
	return proc.Formats(), nil
}

// readSmallForm reads a url-encoded form body of at most limit bytes.
func readSmallForm(body io.Reader, limit int64) (url.Values, error) {
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, importErrorf("load_tasks: cannot read the request body: %v", err)
	}
	if int64(len(b)) > limit {
		return nil, importErrorf("load_tasks: the form is larger than the limit of %s", importer.HumanBytes(limit))
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, importErrorf("load_tasks: the form does not parse: %v", err)
	}
	return v, nil
}

// requestBody returns the request body as a stream: the connection's body
// stream when Fiber streams it, else the buffered body.
func (s *Server) requestBody(c *fiber.Ctx) io.Reader {
	if rs := c.Context().RequestBodyStream(); rs != nil {
		return rs
	}
	return bytes.NewReader(c.Body())
}

// bodyTooLargeError stops an import whose body passes the limit.
type bodyTooLargeError struct{ limit int64 }

func (e *bodyTooLargeError) Error() string { return importBodyTooLarge(e.limit) }

func importBodyTooLarge(limit int64) string {
	return fmt.Sprintf("Request body is too large: the limit is %s for imports", importer.HumanBytes(limit))
}

// limitedBody reads at most limit bytes, then fails with
// *bodyTooLargeError.
type limitedBody struct {
	r     io.Reader
	n     int64
	limit int64
	eof   bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.n > b.limit {
		return 0, &bodyTooLargeError{limit: b.limit}
	}
	if rem := b.limit + 1 - b.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		return n, &bodyTooLargeError{limit: b.limit}
	}
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// finishBody reads what is left of a small body so that the connection
// can serve the next request, and closes the connection when much is left.
func finishBody(c *fiber.Ctx, b *limitedBody) {
	if b.eof {
		return
	}
	n, err := io.Copy(io.Discard, io.LimitReader(b.r, 1<<20))
	if err != nil || n == 1<<20 {
		c.Context().SetConnectionClose()
	}
}

// bufferSmallBody reads the streamed body of a request that is not an
// import into memory, refusing one larger than the small body limit.
//
// With StreamRequestBody, Fiber reads only the first 8 KiB of a body before
// the handler runs: it no longer refuses big bodies sent without
// Content-Length (chunked), and a body a handler leaves unread would be
// taken for the next request of the connection. limitSmallBodies must
// therefore call this for every non-import path; imports
// read the stream themselves.
func (s *Server) bufferSmallBody(c *fiber.Ctx) error {
	rs := c.Context().RequestBodyStream()
	if rs == nil || isImportPath(c.Path()) {
		return nil
	}
	limit := int64(s.smallBodyLimit())
	if cl := c.Request().Header.ContentLength(); cl > 0 && int64(cl) > limit {
		c.Context().SetConnectionClose()
		return envelopeError(fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body is too large: the limit is %s for %s", humanBytes(limit), c.Path()))
	}
	b, err := io.ReadAll(io.LimitReader(rs, limit+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return envelopeError(fiber.StatusBadRequest, "cannot read the request body: "+err.Error())
	}
	if int64(len(b)) > limit {
		c.Context().SetConnectionClose()
		return envelopeError(fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body is too large: the limit is %s for %s", humanBytes(limit), c.Path()))
	}
	c.Request().SetBody(b)
	return nil
}
