package migrate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"labelstudio/store"
)

// preparedTask is a task of tasks.json ready to store, with its
// completions and what preparing them counted.
type preparedTask struct {
	exact     store.ExactTask
	size      int
	assigned  int
	filled    int
	cancelled int
}

// migrateTasks streams tasks.json into the store, each task with the
// completions of its completions file.
func (m *projectMigration) migrateTasks(path string) error {
	m.seen = map[int64]bool{}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			m.rep.warnf("no %s: the project has no tasks", filepath.Base(path))
		} else {
			m.rep.warnf("%s: %v; no tasks migrated", filepath.Base(path), err)
		}
		return nil
	}
	defer f.Close()
	damage, err := eachTaskEntry(bufio.NewReaderSize(f, 1<<16), func(e taskEntry) error {
		return m.addEntry(e)
	})
	if err != nil {
		return err
	}
	if m.importCompletions > 0 {
		m.rep.warnf("%d task(s) in tasks.json carry a copy of the completions they were imported with; it is not migrated (as in 0.8.1, only completions/ counts)", m.importCompletions)
	}
	if damage != nil {
		m.rep.warnf("%s is damaged (%v); the %d task(s) read before the damage were migrated", filepath.Base(path), damage, len(m.seen))
	}
	return m.flush()
}

// taskEntry is one entry of tasks.json: a value of the top-level object
// with its key, or an item of a top-level list with its index.
type taskEntry struct {
	key    string
	isList bool
	index  int
	raw    json.RawMessage
}

func (e taskEntry) label() string {
	if e.isList {
		return fmt.Sprintf("tasks.json item %d", e.index)
	}
	return fmt.Sprintf("tasks.json entry %q", e.key)
}

// eachTaskEntry reads a tasks.json (an object keyed by task id, or a list)
// entry by entry. When the text stops being valid JSON, the entries read
// so far have been passed to fn and damage tells what is wrong; err is
// only an error of fn.
func eachTaskEntry(r io.Reader, fn func(taskEntry) error) (damage, err error) {
	dec := json.NewDecoder(r)
	tok, terr := dec.Token()
	if terr == io.EOF {
		return errors.New("the file is empty"), nil
	}
	if terr != nil {
		return terr, nil
	}
	open, _ := tok.(json.Delim)
	if open != '{' && open != '[' {
		return errors.New("it is neither a JSON object nor a list"), nil
	}
	for i := 0; dec.More(); i++ {
		e := taskEntry{isList: open == '[', index: i}
		if open == '{' {
			kt, kerr := dec.Token()
			if kerr != nil {
				return kerr, nil
			}
			key, ok := kt.(string)
			if !ok {
				return fmt.Errorf("unexpected %v", kt), nil
			}
			e.key = key
		}
		if derr := dec.Decode(&e.raw); derr != nil {
			return derr, nil
		}
		if err := fn(e); err != nil {
			return nil, err
		}
	}
	if _, cerr := dec.Token(); cerr != nil {
		if cerr == io.EOF {
			cerr = io.ErrUnexpectedEOF
		}
		return cerr, nil
	}
	return nil, nil
}

// addEntry prepares one tasks.json entry and queues it.
func (m *projectMigration) addEntry(e taskEntry) error {
	id, nt, problem := m.parseTask(e)
	if problem != "" {
		m.rep.SkippedTasks++
		m.rep.warnf("%s skipped: %s", e.label(), problem)
		return nil
	}
	if m.seen[id] {
		m.rep.SkippedTasks++
		m.rep.warnf("%s skipped: task id %d appears twice", e.label(), id)
		return nil
	}
	m.seen[id] = true
	pt := preparedTask{exact: store.ExactTask{ID: id, Task: nt}, size: len(nt.Data) + len(nt.Predictions) + len(nt.Meta)}
	if path, ok := m.compFiles[id]; ok {
		delete(m.compFiles, id)
		m.readCompletions(path, &pt)
	}
	m.batch = append(m.batch, pt)
	m.batchComps += len(pt.exact.Completions)
	m.batchBytes += pt.size
	if len(m.batch) >= batchTasks || m.batchComps >= batchCompletions || m.batchBytes >= batchBytes {
		return m.flush()
	}
	return nil
}

// flush stores the queued tasks in one transaction. When the store refuses
// the batch for its content, the tasks are stored one by one so that only
// the bad ones are skipped.
func (m *projectMigration) flush() error {
	if len(m.batch) == 0 {
		return nil
	}
	batch := m.batch
	m.batch, m.batchComps, m.batchBytes = nil, 0, 0
	exact := make([]store.ExactTask, len(batch))
	for i, pt := range batch {
		exact[i] = pt.exact
	}
	err := m.st.RestoreTasks(m.name, exact)
	if err == nil {
		for i := range batch {
			m.account(&batch[i])
		}
		return nil
	}
	if !isInputError(err) {
		return fmt.Errorf("store tasks: %w", err)
	}
	for i := range batch {
		pt := &batch[i]
		err := m.st.RestoreTasks(m.name, []store.ExactTask{pt.exact})
		switch {
		case err == nil:
			m.account(pt)
		case isInputError(err):
			m.rep.SkippedTasks++
			m.rep.warnf("task %d skipped (with its %d completion(s)): %v", pt.exact.ID, len(pt.exact.Completions), err)
		default:
			return fmt.Errorf("store task %d: %w", pt.exact.ID, err)
		}
	}
	return nil
}

func isInputError(err error) bool {
	return errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict)
}

// account adds a stored task to the report.
func (m *projectMigration) account(pt *preparedTask) {
	r := m.rep
	r.Tasks++
	if n := len(pt.exact.Completions); n > 0 {
		r.CompletedTasks++
		r.Completions += n
	}
	r.CancelledCompletions += pt.cancelled
	r.AssignedIDs += pt.assigned
	r.FilledCreatedAt += pt.filled
}

// parseTask turns a tasks.json entry into a task. problem, when not
// empty, says why the entry cannot be a task.
func (m *projectMigration) parseTask(e taskEntry) (id int64, nt store.NewTask, problem string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(e.raw, &obj); err != nil || obj == nil {
		return 0, nt, "not a JSON object"
	}
	fieldID, hasFieldID := parseIntJSON(obj["id"])
	switch {
	case !e.isList:
		keyID, err := strconv.ParseInt(strings.TrimSpace(e.key), 10, 64)
		switch {
		case err == nil:
			id = keyID
			if hasFieldID && fieldID != keyID {
				m.rep.warnf("%s: its id field says %d; the key %d is used", e.label(), fieldID, keyID)
			}
		case hasFieldID:
			id = fieldID
		default:
			return 0, nt, "the key is not a task id and the entry has no integer id"
		}
	case hasFieldID:
		id = fieldID
	default:
		id = int64(e.index)
	}
	if id < 0 {
		return 0, nt, fmt.Sprintf("task id %d is negative", id)
	}
	data := bytes.TrimSpace(obj["data"])
	if len(data) == 0 || data[0] != '{' {
		return 0, nt, "no data object"
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return 0, nt, fmt.Sprintf("data: %v", err)
	}
	if len(keys) == 0 {
		return 0, nt, "the data object is empty"
	}
	data, err := m.taskData(id, data)
	if err != nil {
		return 0, nt, fmt.Sprintf("data: %v", err)
	}
	nt.Data = data
	for k := range keys {
		nt.DataKeys = append(nt.DataKeys, k)
	}
	if p := bytes.TrimSpace(obj["predictions"]); len(p) > 0 && !bytes.Equal(p, []byte("null")) {
		if p[0] == '[' {
			nt.Predictions = compact(p)
		} else {
			m.rep.warnf("%s: predictions are not a list; dropped", e.label())
		}
	}
	if mt := bytes.TrimSpace(obj["meta"]); len(mt) > 0 && !bytes.Equal(mt, []byte("null")) {
		if mt[0] == '{' {
			nt.Meta = compact(mt)
		} else {
			m.rep.warnf("%s: meta is not an object; dropped", e.label())
		}
	}
	if ic := bytes.TrimSpace(obj["completions"]); len(ic) > 2 && ic[0] == '[' {
		m.importCompletions++
	}
	if tp, ok := obj["task_path"]; ok {
		var s string
		if json.Unmarshal(tp, &s) == nil {
			nt.TaskPath = s
		}
	}
	return id, nt, ""
}

// compact removes insignificant white space from valid JSON.
func compact(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return b.Bytes()
}

// parseIntJSON reads an integer id: a JSON number with an integral value
// or a string of digits.
func parseIntJSON(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false
		}
		s = strings.TrimSpace(s)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<53 {
		return 0, false
	}
	return int64(f), true
}
