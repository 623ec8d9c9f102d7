package server

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"labelstudio/server/importer"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// ImportLimits bound imports. Zero fields take the defaults.
type ImportLimits struct {
	// BodyLimit caps the body of one import request (DefaultImportBodyLimit).
	BodyLimit int64
	// MaxTasks caps the tasks of one import (MaxImportTasks, as 0.8.1);
	// negative means no cap.
	MaxTasks int
	// DownloadLimit caps the file of a url= import
	// (DefaultDownloadLimit, as 0.8.1).
	DownloadLimit int64
	// DownloadTimeout caps the time a url= import may take to download
	// (DefaultDownloadTimeout).
	DownloadTimeout time.Duration
	// Files bound what the parsers read (item size, archives).
	Files importer.Limits
}

// Default import limits.
const (
	// DefaultImportBodyLimit caps an import request's body.
	DefaultImportBodyLimit = 4 << 30
	// DefaultDownloadLimit caps a url= import: 0.8.1 refuses 200 MiB.
	DefaultDownloadLimit = 200 << 20
	// DefaultDownloadTimeout caps the download of a url= import.
	DefaultDownloadTimeout = 5 * time.Minute
)

// withDefaults returns l with its zero fields set to the defaults.
func (l ImportLimits) withDefaults() ImportLimits {
	if l.BodyLimit <= 0 {
		l.BodyLimit = DefaultImportBodyLimit
	}
	if l.MaxTasks == 0 {
		l.MaxTasks = MaxImportTasks
	}
	if l.DownloadLimit <= 0 {
		l.DownloadLimit = DefaultDownloadLimit
	}
	if l.DownloadTimeout <= 0 {
		l.DownloadTimeout = DefaultDownloadTimeout
	}
	l.Files = l.Files.WithDefaults()
	return l
}

// Chunking of the store writes of an import.
const (
	importChunkTasks = 10_000
	importChunkBytes = 8 << 20
)

// errTooManyItemErrors stops an import once maxItemErrors are gathered.
var errTooManyItemErrors = errors.New("too many invalid items")

// errNoUploadDir refuses media files when no upload folder is configured.
var errNoUploadDir = errors.New("media files cannot be imported: the server has no upload folder")

// ImportError is a refused import: the messages the 400 answer lists.
type ImportError struct{ Messages []string }

func (e *ImportError) Error() string { return strings.Join(e.Messages, "\n") }

// importRun is one import: it validates the items the parsers find (it is
// their importer.Sink), writes them to the store in chunks, and keeps the
// import all-or-nothing: after the first invalid item nothing more is
// written, and finish aborts what was.
type importRun struct {
	st       *store.Store
	project  string
	cfg      *labelconfig.Config
	firstKey string
	opts     store.ImportOptions
	limits   ImportLimits
	// uploadDir is the project's upload folder ("" when none).
	uploadDir string
	// tempDir receives spooled inputs.
	tempDir string
	// taskPath, when set, is given to the next items (CLI loaders).
	taskPath string
	keys     keyCache

	// im is used by the writer goroutine only, until stopWriter returns.
	im    *store.Importer
	queue chan []store.NewTask
	wdone chan struct{}
	wmu   sync.Mutex
	werr  error

	// pipe, when set, takes the valid tasks in small batches into one
	// store transaction while the rest is read (see startPipe).
	pipe     chan []store.NewTask
	pipeStop context.CancelFunc
	pipeDone chan struct{}
	pipeRes  store.ImportResult
	pipeErr  error

	chunk  []store.NewTask
	held   []byte // the block keep copies items into
	bytes  int
	items  int
	errs   []string
	hosted []string
	// progress, when set, is called after each stored chunk with the
	// number of items read so far.
	progress func(items int)
}

func newImportRun(st *store.Store, project string, cfg *labelconfig.Config, opts store.ImportOptions, limits ImportLimits, uploadRoot string) *importRun {
	r := &importRun{st: st, project: project, cfg: cfg, opts: opts, limits: limits.withDefaults()}
	if cfg != nil {
		r.firstKey = cfg.FirstDataKey()
	}
	if uploadRoot != "" {
		r.uploadDir = filepath.Join(uploadRoot, store.UploadFolder(project))
		r.tempDir = filepath.Join(uploadRoot, ".tmp")
	}
	return r
}

// processor returns a file processor that feeds this import.
func (r *importRun) processor() *importer.Processor {
	cfg := importer.Config{Limits: r.limits.Files}
	if r.cfg != nil {
		keys := r.cfg.DataKeys()
		cfg.DataKeys = len(keys)
		cfg.TimeSeriesOnly = len(keys) == 1 && keys[0].Tag == "TimeSeries"
	}
	if r.tempDir != "" && os.MkdirAll(r.tempDir, 0o755) == nil {
		cfg.TempDir = r.tempDir
	}
	return importer.NewProcessor(cfg, r)
}

// Item validates one import item and queues it for the store.
func (r *importRun) Item(raw []byte) error {
	i := r.items
	r.items++
	if r.limits.MaxTasks >= 0 && r.items > r.limits.MaxTasks {
		// Too many: count the rest to tell how many, store nothing.
		r.chunk = r.chunk[:0]
		return nil
	}
	raw = r.keep(raw)
	if r.keys == nil {
		r.keys = keyCache{}
	}
	nt, hadData, reasons := prepareTaskKeys(raw, r.cfg, r.firstKey, r.keys)
	if len(reasons) > 0 {
		if len(r.errs) >= maxItemErrors-1 {
			r.errs = append(r.errs, "...")
			return errTooManyItemErrors
		}
		r.errs = append(r.errs, itemError(i, reasons, hadData, raw))
		return nil
	}
	if len(r.errs) > 0 {
		return nil
	}
	nt.TaskPath = r.taskPath
	if r.opts.SkipDuplicates {
		// Hashed here, on the reading side, not in the write transaction.
		if h, err := store.DataHash(nt.Data); err == nil {
			nt.Hash, nt.Hashed = h, true
		}
	}
	r.chunk = append(r.chunk, nt)
	r.bytes += len(raw)
	if r.pipe != nil {
		if len(r.chunk) >= pipeBatch {
			r.pipe <- r.chunk
			r.chunk = make([]store.NewTask, 0, pipeBatch)
		}
		return nil
	}
	if len(r.chunk) >= importChunkTasks || r.bytes >= importChunkBytes {
		return r.flush()
	}
	return nil
}

// pipeBatch is how many tasks a pipelined import hands over at a time.
const pipeBatch = 128

// startPipe makes the import store its tasks while it reads them, in one
// transaction (store.ImportStream): for an input that is in memory whole
// and small enough for one chunk, reading and storing then use a core each
// instead of following one another. The transaction holds the database's
// write lock until finish, so the input must not wait on the network.
func (r *importRun) startPipe() {
	ctx, cancel := context.WithCancel(context.Background())
	r.pipe = make(chan []store.NewTask, 4)
	r.pipeStop = cancel
	r.pipeDone = make(chan struct{})
	go func() {
		defer close(r.pipeDone)
		r.pipeRes, r.pipeErr = r.st.ImportStream(ctx, r.project, r.opts, r.pipe)
	}()
}

// finishPipe ends a pipelined import: it commits when the input was read
// without error and every item was valid, else it rolls back.
func (r *importRun) finishPipe(err error) (store.ImportResult, error) {
	if err != nil || len(r.errs) > 0 {
		r.pipeStop()
	} else if len(r.chunk) > 0 {
		r.pipe <- r.chunk
	}
	close(r.pipe)
	<-r.pipeDone
	r.pipeStop()
	if err == nil && len(r.errs) == 0 {
		if r.pipeErr == nil {
			return r.stored(r.pipeRes, true)
		}
		err = fmt.Errorf("store the tasks: %w", r.pipeErr)
	}
	return r.failed(err)
}

// checkCounts adds to err (what reading the input returned) the import's
// own refusals: too many items, or none.
func (r *importRun) checkCounts(err error) error {
	if err == nil && r.limits.MaxTasks >= 0 && r.items > r.limits.MaxTasks {
		err = &ImportError{Messages: []string{fmt.Sprintf("Maximum task number is %d, current task number is %d", r.limits.MaxTasks, r.items)}}
	}
	if err == nil && len(r.errs) == 0 && r.items == 0 {
		err = &ImportError{Messages: []string{"load_tasks: No tasks added"}}
	}
	return err
}

// stored ends a committed import: its uploads stay, and with progress the
// last count is reported.
func (r *importRun) stored(res store.ImportResult, progress bool) (store.ImportResult, error) {
	if progress && r.progress != nil {
		r.progress(r.items)
	}
	releaseUploads(r.hosted, true)
	return res, nil
}

// failed ends an import that stored nothing: its uploads go.
func (r *importRun) failed(err error) (store.ImportResult, error) {
	releaseUploads(r.hosted, false)
	return store.ImportResult{}, r.describe(err)
}

// keep copies an item: the parsers reuse their buffers, the queued tasks
// point into the copy. Small items share 256 KiB blocks, one allocation
// for many items instead of one each; a block is never reused, so earlier
// copies stay as they are.
func (r *importRun) keep(item []byte) []byte {
	const block = 256 << 10
	if len(item) > block/4 {
		return bytes.Clone(item)
	}
	if cap(r.held)-len(r.held) < len(item) {
		r.held = make([]byte, 0, block)
	}
	start := len(r.held)
	r.held = append(r.held, item...)
	return r.held[start:len(r.held):len(r.held)]
}

// flush hands the queued tasks to the writer goroutine, which stores them
// while the next chunk is read: parsing and storing use a core each. At
// most three chunks are in memory: one being stored, one waiting, one
// filling.
func (r *importRun) flush() error {
	if len(r.chunk) == 0 {
		return nil
	}
	if err := r.writeErr(); err != nil {
		return err
	}
	if r.queue == nil {
		r.queue = make(chan []store.NewTask, 1)
		r.wdone = make(chan struct{})
		go r.write()
	}
	r.queue <- r.chunk
	r.chunk, r.bytes = make([]store.NewTask, 0, len(r.chunk)), 0
	if r.progress != nil {
		r.progress(r.items)
	}
	return nil
}

// write is the writer goroutine: it begins the store import and adds the
// chunks it receives; after an error it drops the rest.
func (r *importRun) write() {
	defer close(r.wdone)
	for chunk := range r.queue {
		if r.writeErr() != nil {
			continue
		}
		if r.im == nil {
			im, err := r.st.BeginImport(r.project, r.opts)
			if err != nil {
				r.setWriteErr(fmt.Errorf("begin the import: %w", err))
				continue
			}
			r.im = im
		}
		if err := r.im.Add(chunk); err != nil {
			r.setWriteErr(fmt.Errorf("store the tasks: %w", err))
		}
	}
}

func (r *importRun) writeErr() error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	return r.werr
}

func (r *importRun) setWriteErr(err error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.werr = err
}

// stopWriter waits for the writer goroutine to store what it was given
// and returns its error.
func (r *importRun) stopWriter() error {
	if r.queue != nil {
		close(r.queue)
		<-r.wdone
		r.queue = nil
	}
	return r.writeErr()
}

// finish ends the import: with err (what reading the input returned) or
// any invalid item it removes everything the import stored and uploaded;
// otherwise it commits.
func (r *importRun) finish(err error) (store.ImportResult, error) {
	err = r.checkCounts(err)
	if r.pipe != nil {
		return r.finishPipe(err)
	}
	if err == nil && len(r.errs) == 0 && r.queue == nil && r.im == nil {
		// Everything fits in one chunk: one transaction, one fsync.
		res, ierr := r.st.ImportTasks(r.project, r.chunk, r.opts)
		if ierr == nil {
			return r.stored(res, true)
		}
		err = fmt.Errorf("store the tasks: %w", ierr)
	}
	if err == nil && len(r.errs) == 0 {
		err = r.flush()
	}
	if werr := r.stopWriter(); err == nil && len(r.errs) == 0 {
		err = werr
	}
	if err == nil && len(r.errs) == 0 {
		if r.im == nil {
			// Every item was valid but nothing was queued: cannot happen
			// (items > 0), kept for safety.
			err = &ImportError{Messages: []string{"load_tasks: No tasks added"}}
		} else {
			res, cerr := r.im.Commit()
			if cerr == nil {
				return r.stored(res, false)
			}
			err = fmt.Errorf("commit the import: %w", cerr)
		}
	}
	if r.im != nil {
		if aerr := r.im.Abort(); aerr != nil {
			err = errors.Join(err, fmt.Errorf("roll the import back: %w", aerr))
		}
	}
	return r.failed(err)
}

// describe turns the outcome of a failed import into the error to answer.
func (r *importRun) describe(err error) error {
	msgs := append([]string(nil), r.errs...)
	var ie *ImportError
	var fe *importer.FileError
	var tl *bodyTooLargeError
	if errors.As(err, &tl) {
		return tl
	}
	switch {
	case err == nil || errors.Is(err, errTooManyItemErrors):
	case errors.As(err, &ie):
		msgs = append(msgs, ie.Messages...)
	case errors.As(err, &fe):
		msgs = append(msgs, fe.Error())
	case errors.Is(err, errNoUploadDir), errors.Is(err, store.ErrInvalid):
		msgs = append(msgs, "load_tasks: "+err.Error())
	default:
		return err
	}
	return &ImportError{Messages: msgs}
}

// itemError formats the message of an invalid item (api.md §4.3).
func itemError(i int, reasons []string, hadData bool, raw []byte) string {
	assume := `[assume: item as is = task root with values] `
	if hadData {
		assume = `[assume: item["data"] = task root with values]`
	}
	return fmt.Sprintf("Error   at item %d: %s %s :: %s", i, strings.Join(reasons, "; "), assume, itemRepr(raw))
}

// Host stores a media file in the project's upload folder as
// <md5 of the content>-<base name> and returns its root-relative URL.
func (r *importRun) Host(name string, src io.Reader) (string, error) {
	if r.uploadDir == "" {
		return "", errNoUploadDir
	}
	if err := os.MkdirAll(r.uploadDir, 0o755); err != nil {
		return "", fmt.Errorf("create the upload folder: %w", err)
	}
	tmp, err := os.CreateTemp(r.uploadDir, ".upload-*")
	if err != nil {
		return "", fmt.Errorf("store %s: %w", name, err)
	}
	h := md5.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name()) //nolint:errcheck // best effort
		return "", fmt.Errorf("store %s: %w", name, err)
	}
	stored := hex.EncodeToString(h.Sum(nil)) + "-" + safeFileName(name)
	path := filepath.Join(r.uploadDir, stored)
	if err := adoptUpload(tmp.Name(), path, &r.hosted); err != nil {
		return "", fmt.Errorf("store %s: %w", name, err)
	}
	return "/data/upload/" + url.PathEscape(stored), nil
}

// safeFileName makes a base name safe to store: no separators or control
// characters, at most 200 bytes (the extension kept).
func safeFileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || unicode.IsControl(r) {
			return '_'
		}
		return r
	}, importer.BaseName(name))
	const max = 200
	if len(name) > max {
		ext := filepath.Ext(name)
		if len(ext) > 20 {
			ext = ""
		}
		cut := max - len(ext)
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut] + ext
	}
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	return name
}

// uploads tracks the upload files that running imports created, so that a
// failed import removes only files no other import kept.
var uploads = struct {
	sync.Mutex
	m map[string]*uploadRef
}{m: map[string]*uploadRef{}}

type uploadRef struct {
	refs      int
	committed bool
}

// adoptUpload moves a finished temporary upload to its final path. The same
// content under the same name is stored once: when the path exists the
// temporary file is dropped.
func adoptUpload(tmp, path string, hosted *[]string) error {
	uploads.Lock()
	defer uploads.Unlock()
	if _, err := os.Lstat(path); err == nil {
		os.Remove(tmp) //nolint:errcheck // a duplicate
		if ref := uploads.m[path]; ref != nil {
			ref.refs++
			*hosted = append(*hosted, path)
		}
		return nil
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp) //nolint:errcheck
		return err
	}
	uploads.m[path] = &uploadRef{refs: 1}
	*hosted = append(*hosted, path)
	return nil
}

// releaseUploads ends an import's hold on its uploads: a committed import
// keeps them; a failed one removes those no committed import uses.
func releaseUploads(paths []string, commit bool) {
	uploads.Lock()
	defer uploads.Unlock()
	for _, p := range paths {
		ref := uploads.m[p]
		if ref == nil {
			continue
		}
		ref.refs--
		ref.committed = ref.committed || commit
		if ref.refs <= 0 {
			if !ref.committed {
				os.Remove(p) //nolint:errcheck // best effort
			}
			delete(uploads.m, p)
		}
	}
}
