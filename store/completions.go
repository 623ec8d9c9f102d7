package store

import (
	"bytes"
	"fmt"
	"strconv"

	json "github.com/goccy/go-json"
)

// Completion is one stored completion: its identity and timing, and the
// whole JSON object as stored (which includes id and created_at).
type Completion struct {
	ID           int64
	TaskID       int64
	CreatedAt    int64
	HasCreatedAt bool
	WasCancelled bool
	Raw          json.RawMessage
}

// head is the part of a completion object the store reads.
type head struct {
	CreatedAt    *float64        `json:"created_at"`
	WasCancelled *bool           `json:"was_cancelled"`
	Skipped      *bool           `json:"skipped"`
	Result       json.RawMessage `json:"result"`
}

func (h head) cancelled() bool {
	return (h.WasCancelled != nil && *h.WasCancelled) || (h.Skipped != nil && *h.Skipped)
}

func parseHead(b []byte) head {
	var h head
	if json.Unmarshal(b, &h) != nil {
		// A completion whose created_at or flags have unexpected types is
		// still stored; it just has no time and is not cancelled.
		var loose struct {
			Result json.RawMessage `json:"result"`
		}
		_ = json.Unmarshal(b, &loose)
		h = head{Result: loose.Result}
	}
	return h
}

func completionFrom(taskID, id int64, raw []byte) Completion {
	h := parseHead(raw)
	c := Completion{ID: id, TaskID: taskID, WasCancelled: h.cancelled(), Raw: append(json.RawMessage(nil), raw...)}
	if h.CreatedAt != nil {
		c.CreatedAt, c.HasCreatedAt = int64(*h.CreatedAt), true
	}
	return c
}

// MaxResults is the largest number of result items one completion may hold.
const MaxResults = 100_000

// checkResults refuses a result that is not a list, or a list longer than
// MaxResults.
func checkResults(m map[string]json.RawMessage) error {
	r, ok := m["result"]
	if !ok || string(bytes.TrimSpace(r)) == "null" {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(r, &items); err != nil {
		return Invalidf(`"result" must be a list of result items`)
	}
	if len(items) > MaxResults {
		return Invalidf("a completion holds at most %d result items, this one has %d", MaxResults, len(items))
	}
	return nil
}

// decodeObject parses a JSON object into its members.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, Invalidf("a completion must be a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, Invalidf("completion is not valid JSON: %v", err)
	}
	if m == nil {
		return nil, Invalidf("a completion must be a JSON object")
	}
	return m, nil
}

func rawInt(v int64) json.RawMessage { return json.RawMessage(strconv.FormatInt(v, 10)) }

// RevisionConflict is the error of an update that names a revision other
// than the stored one: somebody else changed the completion meanwhile.
type RevisionConflict struct {
	Revision int64
	// Current is the completion as stored now.
	Current json.RawMessage
}

func (e *RevisionConflict) Error() string {
	return fmt.Sprintf("the completion was changed meanwhile: it is at revision %d; reload it and apply your change again", e.Revision)
}

// Unwrap makes a RevisionConflict an ErrConflict.
func (e *RevisionConflict) Unwrap() error { return ErrConflict }

// revisionOf reads the revision member of a completion (0 when absent).
func revisionOf(m map[string]json.RawMessage) int64 {
	r, _ := rawID(m["revision"])
	return r
}

// checkRevision compares a revision the client sent (if any) with the
// stored one.
func checkRevision(body, stored map[string]json.RawMessage, storedRaw []byte) error {
	sent, ok := body["revision"]
	if !ok || string(sent) == "null" {
		return nil
	}
	want, ok := rawID(sent)
	if !ok {
		return Invalidf("revision must be an integer")
	}
	if have := revisionOf(stored); want != have {
		return &RevisionConflict{Revision: have, Current: append(json.RawMessage(nil), storedRaw...)}
	}
	return nil
}

// rawID reads an integer id from a JSON value (number or numeric string).
func rawID(v json.RawMessage) (int64, bool) {
	s := string(bytes.Trim(bytes.TrimSpace(v), `"`))
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// SaveCompletion stores a completion for a task, as POST
// /api/tasks/<id>/completions does: a body whose id names an existing
// completion of the task updates it (shallow merge), anything else is a new
// completion with a fresh id and created_at. cancelled marks a skip; without
// it the keys was_cancelled and skipped are dropped from the body. It returns
// the completion id. Concurrent calls share commits.
func (s *Store) SaveCompletion(project string, taskID int64, body []byte, cancelled bool) (int64, error) {
	m, err := decodeObject(body)
	if err != nil {
		return 0, err
	}
	if err := checkResults(m); err != nil {
		return 0, err
	}
	if cancelled {
		m["was_cancelled"] = json.RawMessage("true")
	} else {
		delete(m, "was_cancelled")
		delete(m, "skipped")
	}
	now := s.Now().Unix()
	nc, err := prepareNew(m, now)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.batch(project, func(t *ptx) error {
		var err error
		if nc != nil {
			id, err = t.saveNew(taskID, nc)
		} else {
			id, err = t.saveCompletion(taskID, m, now)
		}
		return err
	})
	return id, err
}

// newCompletion is a completion that is new for sure (its body names no
// integer id), made ready before the write transaction so that the
// transaction, which every concurrent writer waits for, does only what
// needs the stored data: its JSON as saveCompletion would encode it, less
// the id, cut where the id goes; what summarize would read of it; and its
// label-usage keys.
type newCompletion struct {
	before, after []byte // members sorting before and after "id", without braces
	head          head
	usage         [][]byte
}

// prepareNew makes m, with created_at now and revision 1, a newCompletion,
// or returns nil when m names an integer id: that may be an update.
func prepareNew(m map[string]json.RawMessage, now int64) (*newCompletion, error) {
	if _, ok := rawID(m["id"]); ok {
		return nil, nil
	}
	lo := make(map[string]json.RawMessage, len(m)+1)
	hi := make(map[string]json.RawMessage, len(m)+1)
	for k, v := range m {
		switch {
		case k == "id":
		case k < "id":
			lo[k] = v
		default:
			hi[k] = v
		}
	}
	lo["created_at"] = rawInt(now)
	hi["revision"] = rawInt(1)
	// json.Marshal writes a map's members in key order: the two halves
	// are the whole object's members before and after "id".
	b1, err := json.Marshal(lo)
	if err != nil {
		return nil, Invalidf("completion cannot be encoded: %v", err)
	}
	b2, err := json.Marshal(hi)
	if err != nil {
		return nil, Invalidf("completion cannot be encoded: %v", err)
	}
	nc := &newCompletion{before: b1[1 : len(b1)-1], after: b2[1 : len(b2)-1]}
	nc.head = parseHead(nc.encode(0))
	nc.usage = usageKeys(nc.head.Result)
	return nc, nil
}

// encode returns the completion's JSON with the given id.
func (nc *newCompletion) encode(id int64) []byte {
	b := make([]byte, 0, len(nc.before)+len(nc.after)+32)
	b = append(b, '{')
	if len(nc.before) > 0 {
		b = append(append(b, nc.before...), ',')
	}
	b = strconv.AppendInt(append(b, `"id":`...), id, 10)
	if len(nc.after) > 0 {
		b = append(append(b, ','), nc.after...)
	}
	return append(b, '}')
}

// newCompletionID is the id of a new completion of a task whose
// completions old describes: task_id*1000 + 1, or one more than the
// largest in use.
func newCompletionID(taskID int64, old summary) int64 {
	id := taskID*1000 + 1
	if old.n > 0 && old.maxID >= id {
		id = old.maxID + 1
	}
	return id
}

// saveNew is saveCompletion for a newCompletion.
func (t *ptx) saveNew(taskID int64, nc *newCompletion) (int64, error) {
	if t.bk(bucketTasks).Get(idKey(taskID)) == nil {
		return 0, NotFoundf("task %d not found", taskID)
	}
	var old summary
	if st := t.state(taskID); st != nil {
		old = decodeSummary(st)
	}
	id := newCompletionID(taskID, old)
	if err := t.bk(bucketCompletions).Put(completionKey(taskID, id), nc.encode(id)); err != nil {
		return 0, fmt.Errorf("store completion: %w", err)
	}
	if err := t.addUsage(nc.usage, 1); err != nil {
		return 0, err
	}
	cur := old
	cur.n++
	if nc.head.cancelled() {
		cur.cancelled++
	}
	if h := nc.head.CreatedAt; h != nil && (!cur.hasNewest || int64(*h) > cur.newest) {
		cur.newest, cur.hasNewest = int64(*h), true
	}
	cur.maxID = id
	return id, t.reindex(taskID, old, cur)
}

// saveCompletion is SaveCompletion inside a transaction. m is not modified.
func (t *ptx) saveCompletion(taskID int64, m map[string]json.RawMessage, now int64) (int64, error) {
	if t.bk(bucketTasks).Get(idKey(taskID)) == nil {
		return 0, NotFoundf("task %d not found", taskID)
	}
	old := t.summarize(taskID)
	out := make(map[string]json.RawMessage, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	var id int64
	if bid, ok := rawID(m["id"]); ok && t.bk(bucketCompletions).Get(completionKey(taskID, bid)) != nil {
		id = bid
		prevRaw := t.bk(bucketCompletions).Get(completionKey(taskID, id))
		prev, err := decodeObject(prevRaw)
		if err != nil {
			return 0, err
		}
		if err := checkRevision(out, prev, prevRaw); err != nil {
			return 0, err
		}
		out["revision"] = rawInt(revisionOf(prev) + 1)
		for k, v := range out {
			if k == "created_at" {
				continue
			}
			prev[k] = v
		}
		out = prev
	} else {
		id = newCompletionID(taskID, old)
		out["created_at"] = rawInt(now)
		out["revision"] = rawInt(1)
	}
	out["id"] = rawInt(id)
	return id, t.putCompletion(taskID, id, out, old)
}

// putCompletion writes a completion object and updates every index.
func (t *ptx) putCompletion(taskID, id int64, obj map[string]json.RawMessage, old summary) error {
	raw, err := json.Marshal(obj)
	if err != nil {
		return Invalidf("completion cannot be encoded: %v", err)
	}
	key := completionKey(taskID, id)
	cb := t.bk(bucketCompletions)
	if prev := cb.Get(key); prev != nil {
		if err := t.usage(prev, -1); err != nil {
			return err
		}
	}
	if err := cb.Put(key, raw); err != nil {
		return fmt.Errorf("store completion: %w", err)
	}
	if err := t.usage(raw, 1); err != nil {
		return err
	}
	return t.reindex(taskID, old, t.summarize(taskID))
}

// UpdateCompletion merges body into an existing completion, as PATCH
// /api/tasks/<id>/completions/<cid> does: the id is kept, created_at is kept,
// and a was_cancelled key in the body is forced to false.
//
// Every completion carries a revision, 1 when created and one more at each
// change. A body that names a revision other than the stored one is refused
// with a *RevisionConflict; a body without one (a 0.8.1 client) is applied.
func (s *Store) UpdateCompletion(project string, taskID, compID int64, body []byte) error {
	m, err := decodeObject(body)
	if err != nil {
		return err
	}
	if err := checkResults(m); err != nil {
		return err
	}
	if _, ok := m["was_cancelled"]; ok {
		m["was_cancelled"] = json.RawMessage("false")
	}
	return s.batch(project, func(t *ptx) error {
		if t.bk(bucketTasks).Get(idKey(taskID)) == nil {
			return NotFoundf("task %d not found", taskID)
		}
		prevRaw := t.bk(bucketCompletions).Get(completionKey(taskID, compID))
		if prevRaw == nil {
			return NotFoundf("completion %d of task %d not found", compID, taskID)
		}
		prev, err := decodeObject(prevRaw)
		if err != nil {
			return err
		}
		if err := checkRevision(m, prev, prevRaw); err != nil {
			return err
		}
		old := t.summarize(taskID)
		next := revisionOf(prev) + 1
		for k, v := range m {
			if k == "created_at" || k == "id" {
				continue
			}
			prev[k] = v
		}
		prev["id"] = rawInt(compID)
		prev["revision"] = rawInt(next)
		return t.putCompletion(taskID, compID, prev, old)
	})
}

func (t *ptx) checkDeleteAllowed() error {
	p, err := readProject(t.b, "")
	if err != nil {
		return err
	}
	if !p.Settings.AllowDeleteCompletions {
		return NotAllowedf("Completion removing is not allowed in server config")
	}
	return nil
}

// DeleteCompletion removes one completion. When the task has no completion
// left it becomes uncompleted again. Deleting a completion that does not
// exist of an existing task changes nothing. The project setting
// allow_delete_completions must be on (ErrNotAllowed otherwise).
func (s *Store) DeleteCompletion(project string, taskID, compID int64) error {
	return s.batch(project, func(t *ptx) error {
		if err := t.checkDeleteAllowed(); err != nil {
			return err
		}
		if t.bk(bucketTasks).Get(idKey(taskID)) == nil {
			return NotFoundf("task %d not found", taskID)
		}
		key := completionKey(taskID, compID)
		prev := t.bk(bucketCompletions).Get(key)
		if prev == nil {
			return nil
		}
		old := t.summarize(taskID)
		if err := t.usage(prev, -1); err != nil {
			return err
		}
		if err := t.bk(bucketCompletions).Delete(key); err != nil {
			return err
		}
		return t.reindex(taskID, old, t.summarize(taskID))
	})
}

// DeleteTaskCompletions removes every completion of a task (gated like
// DeleteCompletion).
func (s *Store) DeleteTaskCompletions(project string, taskID int64) error {
	return s.update(project, func(t *ptx) error {
		if err := t.checkDeleteAllowed(); err != nil {
			return err
		}
		if t.bk(bucketTasks).Get(idKey(taskID)) == nil {
			return NotFoundf("task %d not found", taskID)
		}
		return t.dropCompletions(taskID)
	})
}

// dropCompletions deletes a task's completions and updates the indexes.
func (t *ptx) dropCompletions(taskID int64) error {
	old := t.summarize(taskID)
	if old.n == 0 {
		return nil
	}
	cb := t.bk(bucketCompletions)
	var keys [][]byte
	if err := t.eachCompletion(taskID, func(k, v []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return t.usage(v, -1)
	}); err != nil {
		return err
	}
	for _, k := range keys {
		if err := cb.Delete(k); err != nil {
			return err
		}
	}
	return t.reindex(taskID, old, summary{})
}

// DeleteAllCompletions removes every completion of the project; every task
// becomes uncompleted.
func (s *Store) DeleteAllCompletions(project string) error {
	return s.update(project, func(t *ptx) error {
		for _, b := range [][]byte{bucketCompletions, bucketOrders,
			bucketLabelUsage, bucketPendingBits, bucketByScore} {
			if err := t.b.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := t.b.CreateBucket(b); err != nil {
				return err
			}
		}
		if err := t.rebuildPending(); err != nil {
			return err
		}
		sb := t.bk(bucketByScore)
		if err := t.bk(bucketScores).ForEach(func(k, v []byte) error {
			return sb.Put(cat(v, k), nil)
		}); err != nil {
			return err
		}
		if err := t.bk(bucketMeta).Delete(keyScoreHorizon); err != nil {
			return err
		}
		t.c.CompletedTasks, t.c.Completions, t.c.CancelledCompletions = 0, 0, 0
		t.dirty = true
		return nil
	})
}

// CompletedTaskIDs returns the ids of tasks that have completions, ascending.
func (s *Store) CompletedTaskIDs(project string) ([]int64, error) {
	ids := []int64{}
	err := s.view(project, func(t *ptx) error {
		c := t.bk(bucketCompletions).Cursor()
		for id := nextCompleted(c, 0); id >= 0; id = nextCompleted(c, id+1) {
			ids = append(ids, id)
		}
		return nil
	})
	return ids, err
}

// Completions returns a task's completions in id order.
func (s *Store) Completions(project string, taskID int64) ([]Completion, error) {
	var out []Completion
	err := s.view(project, func(t *ptx) error {
		if t.bk(bucketTasks).Get(idKey(taskID)) == nil {
			return NotFoundf("task %d not found", taskID)
		}
		out = t.completions(taskID)
		return nil
	})
	return out, err
}

func (t *ptx) completions(taskID int64) []Completion {
	var out []Completion
	_ = t.eachCompletion(taskID, func(k, v []byte) error {
		out = append(out, completionFrom(taskID, keyID(k[8:]), v))
		return nil
	})
	return out
}
