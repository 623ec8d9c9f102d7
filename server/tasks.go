package server

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/server/importer"
	"labelstudio/store"
)

// renderMode selects which keys a served task carries.
type renderMode int

const (
	// renderGet is GET /api/tasks/<id> and /api/project/next: a completed
	// task carries its completions and predictions.
	renderGet renderMode = iota
	// renderList is /api/tasks: a completed task also carries completed_at
	// and has_cancelled_completions.
	renderList
)

// completedAtString formats a completion time as /api/tasks shows it: the
// server's local time, or "undefined".
func completedAtString(tk store.Task) string {
	if !tk.HasCompletedAt {
		return "undefined"
	}
	return time.Unix(tk.CompletedAt, 0).Local().Format("2006-01-02 15:04:05")
}

// renderTask writes a task's wire JSON from its stored bytes, without
// re-encoding the data.
func renderTask(tk store.Task, mode renderMode) []byte {
	raw := bytes.TrimSpace(tk.Raw)
	if !tk.Completed() {
		return raw
	}
	// The buffer takes the whole answer, so that it never grows: the
	// completions, the separators and the keys this adds.
	size := len(raw) + len(`,"completions":[]`) + len(`,"predictions":[]`)
	for _, c := range tk.Completions {
		size += len(c.Raw) + 1
	}
	if mode == renderList {
		size += len(`,"completed_at":"2006-01-02 15:04:05","has_cancelled_completions":`) + 20
	}
	b := make([]byte, 0, size)
	b = append(b, raw[:len(raw)-1]...)
	b = append(b, `,"completions":[`...)
	for i, c := range tk.Completions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, c.Raw...)
	}
	b = append(b, ']')
	if !hasPredictions(raw) {
		b = append(b, `,"predictions":[]`...)
	}
	if mode == renderList {
		b = append(b, `,"completed_at":`...)
		b = strconv.AppendQuote(b, completedAtString(tk))
		b = append(b, `,"has_cancelled_completions":`...)
		b = strconv.AppendInt(b, tk.Cancelled, 10)
	}
	return append(b, '}')
}

// errFound stops a walk over an object's members early.
var errFound = errors.New("found")

// hasPredictions reports whether a stored task has a top-level
// "predictions" member, whatever its value (null too). It walks the members
// without decoding them and matches the key as a JSON decoder fills a
// struct field: escapes decoded, case folded.
func hasPredictions(raw []byte) bool {
	found := false
	_ = importer.ObjectMembers(raw, func(key, _ []byte) error {
		if isPredictionsKey(key) {
			found = true
			return errFound
		}
		return nil
	})
	return found
}

// isPredictionsKey matches a raw JSON key (quotes included) to "predictions".
func isPredictionsKey(key []byte) bool {
	const name = "predictions"
	if len(key) < 2 {
		return false
	}
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return bytes.EqualFold(inner, []byte(name))
	}
	s, ok := importer.UnquoteKey(key)
	return ok && strings.EqualFold(s, name)
}

func sendRawJSON(c *fiber.Ctx, status int, body []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}

// taskID parses the :id path parameter. A negative id names no task (404);
// text that is not an integer is a 400.
func taskID(c *fiber.Ctx, param string) (int64, error) {
	s := c.Params(param)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, envelopeError(fiber.StatusBadRequest, "'"+s+"' is not a valid id: an integer is expected")
	}
	if id < 0 {
		return 0, store.NotFoundf("task %d not found", id)
	}
	return id, nil
}

// getTask: GET /api/tasks/<id>.
func (s *Server) getTask(c *fiber.Ctx) error {
	id, err := taskID(c, "id")
	if err != nil {
		return err
	}
	tk, err := s.st.Task(s.projectName(c), id)
	if err != nil {
		return err
	}
	body := s.withLivePredictions(c, s.resolveURIs(c, renderTask(tk, renderGet)))
	if c.Query("pretty") != "" {
		var buf bytes.Buffer
		if err := json.Indent(&buf, body, "", "  "); err == nil {
			body = buf.Bytes()
		}
	}
	return sendRawJSON(c, fiber.StatusOK, append(body, '\n'))
}

// deleteTask: DELETE /api/tasks/<id>.
func (s *Server) deleteTask(c *fiber.Ctx) error {
	id, err := taskID(c, "id")
	if err != nil {
		return err
	}
	if err := s.st.DeleteTask(s.projectName(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// deleteAllTasks: DELETE /api/tasks.
func (s *Server) deleteAllTasks(c *fiber.Ctx) error {
	if err := s.st.DeleteAllTasks(s.projectName(c)); err != nil {
		return err
	}
	s.afterDeleteAllTasks(c)
	return c.SendStatus(fiber.StatusNoContent)
}

// positiveInt parses a page parameter: an integer ≥ 1 (default def).
func positiveInt(v string, def int64) (int64, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 1
}

// listTasks: GET /api/tasks (api.md §4.7).
func (s *Server) listTasks(c *fiber.Ctx) error {
	page, ok1 := positiveInt(formOrQuery(c, "page"), 1)
	size, ok2 := positiveInt(formOrQuery(c, "page_size"), 10)
	if !ok1 || !ok2 {
		return detailError(fiber.StatusUnprocessableEntity, "Incorrect page or page_size")
	}
	order := formOrQuery(c, "order")
	if order == "" {
		order = store.OrderID
	}
	if !store.ValidOrder(order) {
		return detailError(fiber.StatusUnprocessableEntity, "Incorrect order")
	}
	fields := formOrQuery(c, "fields")
	if fields == "" {
		fields = "all"
	}
	var tasks []store.Task
	if page-1 <= (math.MaxInt64-1)/size { // otherwise the page starts past any end
		var err error
		tasks, err = s.st.ListTasks(s.projectName(c), order, (page-1)*size, size)
		if err != nil {
			return err
		}
	}
	keep := fieldSet(fields)
	var b bytes.Buffer
	b.WriteByte('[')
	for i, tk := range tasks {
		if i > 0 {
			b.WriteByte(',')
		}
		item := renderTask(tk, renderList)
		if keep != nil {
			item = onlyFields(item, keep)
		}
		b.Write(item)
	}
	b.WriteByte(']')
	return sendRawJSON(c, fiber.StatusOK, s.resolveURIs(c, b.Bytes()))
}

// fieldSet parses the fields parameter; nil means all fields.
func fieldSet(fields string) []string {
	var out []string
	for _, f := range strings.Split(fields, ",") {
		f = strings.TrimSpace(f)
		if f == "all" {
			return nil
		}
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// onlyFields reduces a task object to the listed keys; missing keys are
// omitted.
func onlyFields(obj []byte, keep []string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return obj
	}
	out := make(map[string]json.RawMessage, len(keep))
	for _, k := range keep {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return obj
	}
	return b
}

// listCompletions: GET /api/completions.
func (s *Server) listCompletions(c *fiber.Ctx) error {
	ids, err := s.st.CompletedTaskIDs(s.projectName(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"ids": ids})
}

// completionIDs: GET /api/projects/1/completions_ids (deprecated): a bare array.
func (s *Server) completionIDs(c *fiber.Ctx) error {
	ids, err := s.st.CompletedTaskIDs(s.projectName(c))
	if err != nil {
		return err
	}
	return c.JSON(ids)
}

// deleteAllCompletions: DELETE /api/completions — 201 "done", as 0.8.1.
func (s *Server) deleteAllCompletions(c *fiber.Ctx) error {
	if err := s.st.DeleteAllCompletions(s.projectName(c)); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(fiber.StatusCreated).SendString("done")
}
