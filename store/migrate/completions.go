package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"labelstudio/store"
)

// scanCompletionFiles lists the completion files of a completions folder
// (searched recursively, as 0.8.1 does) by task id: every *.json whose
// stem is an integer.
func scanCompletionFiles(dir string, rep *ProjectReport) map[int64]string {
	files := map[int64]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			rep.warnf("completions: %v", err)
			if d != nil && d.IsDir() && path != dir {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || filepath.Ext(path) != ".json" {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		stem := strings.TrimSuffix(d.Name(), ".json")
		id, perr := strconv.ParseInt(stem, 10, 64)
		switch {
		case perr != nil || id < 0:
			rep.warnf("completions/%s: the file name is not a task id; skipped", filepath.ToSlash(rel))
		case files[id] != "":
			prev, _ := filepath.Rel(dir, files[id])
			rep.warnf("completions/%s: task %d has a file already (%s); skipped", filepath.ToSlash(rel), id, filepath.ToSlash(prev))
		default:
			files[id] = path
		}
		return nil
	})
	if err != nil {
		rep.warnf("completions: %v", err)
	}
	return files
}

// readCompletions reads the completions file of a task into pt. A file
// that cannot be read, is empty or damaged is reported and gives no
// completions.
func (m *projectMigration) readCompletions(path string, pt *preparedTask) {
	taskID := pt.exact.ID
	rel := "completions/" + filepath.Base(path)
	b, err := os.ReadFile(path)
	if err != nil {
		m.rep.DamagedFiles++
		m.rep.warnf("%s: %v; task %d migrated without completions", rel, err, taskID)
		return
	}
	var mtime int64
	if fi, err := os.Stat(path); err == nil {
		mtime = fi.ModTime().Unix()
	}
	if len(bytes.TrimSpace(b)) == 0 {
		m.rep.DamagedFiles++
		m.rep.warnf("%s is empty; task %d migrated without completions", rel, taskID)
		return
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(b, &rec); err != nil || rec == nil {
		if err == nil {
			err = errors.New("not a JSON object")
		}
		m.rep.DamagedFiles++
		m.rep.warnf("%s is damaged (%v); task %d migrated without completions", rel, err, taskID)
		return
	}
	if recID, ok := parseIntJSON(rec["id"]); ok && recID != taskID {
		m.rep.warnf("%s says it is task %d; its completions go to task %d (the file name)", rel, recID, taskID)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(rec["completions"], &items); err != nil || items == nil {
		m.rep.DamagedFiles++
		m.rep.warnf("%s has no completions list; task %d migrated without completions", rel, taskID)
		return
	}
	if len(items) == 0 {
		m.rep.EmptyRecords = append(m.rep.EmptyRecords, taskID)
		m.rep.warnf("%s holds an empty completions list (all were deleted in 0.8.1); task %d stays uncompleted", rel, taskID)
		return
	}
	type item struct {
		obj  map[string]json.RawMessage
		id   int64
		good bool
	}
	var list []item
	used := map[int64]bool{}
	for i, raw := range items {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
			m.rep.warnf("%s: completion %d is not a JSON object; skipped", rel, i)
			continue
		}
		if problem := checkResult(obj["result"]); problem != "" {
			m.rep.warnf("%s: completion %d %s; skipped", rel, i, problem)
			continue
		}
		it := item{obj: obj}
		if id, ok := parseIntJSON(obj["id"]); ok && id >= 0 && !used[id] {
			it.id, it.good = id, true
			used[id] = true
		}
		list = append(list, it)
	}
	for i := range list {
		it := &list[i]
		if !it.good {
			id, ok := freeCompletionID(taskID, i+1, used)
			if !ok {
				m.rep.warnf("%s: completion %d has no usable id and task id %d is too large to make one; skipped", rel, i, taskID)
				continue
			}
			used[id] = true
			it.id = id
			pt.assigned++
		}
		c, filled, cancelled := normalizeCompletion(it.obj, mtime)
		body, err := marshalObject(c)
		if err != nil {
			m.rep.warnf("%s: completion %d: %v; skipped", rel, i, err)
			continue
		}
		ec := store.ExactCompletion{ID: it.id, Body: body, CreatedAt: created(c), HasCreatedAt: true}
		if filled {
			pt.filled++
		}
		if cancelled {
			pt.cancelled++
		}
		pt.exact.Completions = append(pt.exact.Completions, ec)
		pt.size += len(body)
	}
}

// checkResult applies the store's rule to a completion's result: absent,
// null or a list of at most store.MaxResults items.
func checkResult(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return "has a result that is not a list"
	}
	if len(items) > store.MaxResults {
		return fmt.Sprintf("has %d result items (at most %d are allowed)", len(items), store.MaxResults)
	}
	return ""
}

// freeCompletionID makes the id task*1000+n, the first one from n up that
// no other completion of the task uses; ok is false when it would
// overflow.
func freeCompletionID(taskID int64, n int, used map[int64]bool) (int64, bool) {
	if taskID > (math.MaxInt64-1<<40)/1000 {
		return 0, false
	}
	for id := taskID*1000 + int64(n); ; id++ {
		if !used[id] {
			return id, true
		}
	}
}

// normalizeCompletion makes a 0.8.x completion object what the store
// expects: created_at an integer (the file's time when missing or
// unreadable), skipped folded into was_cancelled (a boolean), no stray
// predictions key.
func normalizeCompletion(obj map[string]json.RawMessage, mtime int64) (out map[string]json.RawMessage, filled, cancelled bool) {
	delete(obj, "predictions")
	wc, hasWC := obj["was_cancelled"]
	sk, hasSk := obj["skipped"]
	cancelled = (hasWC && truthy(wc)) || (hasSk && truthy(sk))
	delete(obj, "skipped")
	switch {
	case cancelled:
		obj["was_cancelled"] = json.RawMessage("true")
	case hasWC || hasSk:
		obj["was_cancelled"] = json.RawMessage("false")
	}
	t, ok := parseTime(obj["created_at"])
	if !ok {
		t, filled = mtime, true
	}
	obj["created_at"] = json.RawMessage(strconv.FormatInt(t, 10))
	return obj, filled, cancelled
}

// created reads back the created_at normalizeCompletion set.
func created(obj map[string]json.RawMessage) int64 {
	n, _ := strconv.ParseInt(string(obj["created_at"]), 10, 64)
	return n
}

// truthy tells whether a flag value means yes: true, a non-zero number,
// or the strings "true", "yes", "1" (0.8.1 treated any present
// was_cancelled as cancelled; the re-implementation only truthy values).
func truthy(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return false
	case raw[0] == 't':
		return string(raw) == "true"
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return false
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "yes", "1":
			return true
		}
		return false
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		f, err := strconv.ParseFloat(string(raw), 64)
		return err == nil && f != 0
	}
	return false
}

// parseTime reads created_at: Unix seconds as a number or a numeric
// string, or an RFC 3339 time.
func parseTime(raw json.RawMessage) (int64, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return 0, false
		}
		s = strings.TrimSpace(s)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.Unix(), true
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// marshalObject encodes an object without HTML escaping (results hold HTML
// and XPath text that should stay readable).
func marshalObject(obj map[string]json.RawMessage) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
