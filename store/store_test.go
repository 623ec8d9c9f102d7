package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

func textTask(s string) NewTask {
	d, _ := json.Marshal(map[string]string{"text": s})
	return NewTask{Data: d, DataKeys: []string{"text"}}
}

func mustImport(t *testing.T, s *Store, p string, tasks ...NewTask) []int64 {
	t.Helper()
	res, err := s.ImportTasks(p, tasks, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.TaskIDs()
}

// mustImportSkipping imports tasks with SkipDuplicates and returns what
// the import did.
func mustImportSkipping(t *testing.T, s *Store, p string, tasks ...NewTask) ImportResult {
	t.Helper()
	res, err := s.ImportTasks(p, tasks, ImportOptions{SkipDuplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestImportIDsAndCounters(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	ids := mustImport(t, s, p, textTask("a"), textTask("b"))
	if fmt.Sprint(ids) != "[0 1]" {
		t.Fatalf("first ids = %v", ids)
	}
	ids = mustImport(t, s, p, textTask("c"))
	if fmt.Sprint(ids) != "[2]" {
		t.Fatalf("next ids = %v", ids)
	}
	if err := s.DeleteTask(p, 2); err != nil {
		t.Fatal(err)
	}
	// 0.8.1 reuses ids after the highest tasks are deleted.
	if ids = mustImport(t, s, p, textTask("d")); fmt.Sprint(ids) != "[2]" {
		t.Fatalf("ids after delete = %v", ids)
	}
	if err := s.DeleteAllTasks(p); err != nil {
		t.Fatal(err)
	}
	if ids = mustImport(t, s, p, textTask("e")); fmt.Sprint(ids) != "[0]" {
		t.Fatalf("ids after delete all = %v", ids)
	}
	pr, _ := s.Project(p)
	if pr.Counters.Tasks != 1 {
		t.Fatalf("tasks = %d", pr.Counters.Tasks)
	}
	if _, err := s.ImportTasks(p, []NewTask{{Data: []byte(`[1]`)}}, ImportOptions{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("non-object data: %v", err)
	}
	if res, _ := s.ImportTasks(p, []NewTask{textTask("x")}, ImportOptions{FirstID: 10}); res.TaskIDs()[0] != 10 {
		t.Fatalf("FirstID ignored: %v", res.TaskIDs())
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"))
	bad := textTask("b")
	bad.Completions = []json.RawMessage{json.RawMessage(`"not an object"`)}
	if _, err := s.ImportTasks(p, []NewTask{textTask("ok"), bad}, ImportOptions{}); err == nil {
		t.Fatal("import with a bad completion succeeded")
	}
	pr, _ := s.Project(p)
	if pr.Counters.Tasks != 1 || pr.Counters.Completions != 0 {
		t.Fatalf("counters after failed import: %+v", pr.Counters)
	}
}

func TestCompletionIDs(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"), textTask("b"), textTask("c"), textTask("d"), textTask("e"), textTask("f"), textTask("g"), textTask("h"))
	save := func(task int64) int64 {
		id, err := s.SaveCompletion(p, task, []byte(`{"result":[]}`), false)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	if a, b := save(7), save(7); a != 7001 || b != 7002 {
		t.Fatalf("ids %d %d", a, b)
	}
	if err := s.DeleteCompletion(p, 7, 7001); err != nil {
		t.Fatal(err)
	}
	if c := save(7); c != 7003 {
		t.Fatalf("id after delete = %d, want 7003 (no reuse)", c)
	}
	if a := save(0); a != 1 {
		t.Fatalf("task 0 first id = %d", a)
	}
	// A body whose id names an existing completion updates it.
	id, err := s.SaveCompletion(p, 7, []byte(`{"id":7002,"lead_time":3}`), false)
	if err != nil || id != 7002 {
		t.Fatalf("update via POST: %d %v", id, err)
	}
	cs, _ := s.Completions(p, 7)
	if len(cs) != 2 || !strings.Contains(string(cs[0].Raw), `"lead_time":3`) || !strings.Contains(string(cs[0].Raw), `"result":[]`) {
		t.Fatalf("completions after merge: %v", cs)
	}
	if _, err := s.SaveCompletion(p, 99, []byte(`{}`), false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown task: %v", err)
	}
	for _, body := range []string{``, `[]`, `"x"`, `{`, `null`, `12`} {
		if _, err := s.SaveCompletion(p, 7, []byte(body), false); !errors.Is(err, ErrInvalid) {
			t.Fatalf("body %q: %v", body, err)
		}
	}
}

func TestUpdateCompletion(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"))
	s.Now = func() time.Time { return time.Unix(1000, 0) }
	id, _ := s.SaveCompletion(p, 0, []byte(`{"result":[1],"lead_time":1}`), true)
	s.Now = func() time.Time { return time.Unix(2000, 0) }
	if err := s.UpdateCompletion(p, 0, id, []byte(`{"honeypot":true,"created_at":5,"id":9}`)); err != nil {
		t.Fatal(err)
	}
	cs, _ := s.Completions(p, 0)
	var m map[string]any
	json.Unmarshal(cs[0].Raw, &m)
	if m["honeypot"] != true || m["created_at"] != float64(1000) || m["id"] != float64(1) || m["was_cancelled"] != true {
		t.Fatalf("after honeypot patch: %v", m)
	}
	if err := s.UpdateCompletion(p, 0, id, []byte(`{"was_cancelled":true,"result":[]}`)); err != nil {
		t.Fatal(err)
	}
	cs, _ = s.Completions(p, 0)
	if cs[0].WasCancelled {
		t.Fatal("PATCH with was_cancelled must un-skip")
	}
	pr, _ := s.Project(p)
	if pr.Counters.CancelledCompletions != 0 {
		t.Fatalf("cancelled counter = %d", pr.Counters.CancelledCompletions)
	}
	if err := s.UpdateCompletion(p, 0, 55, []byte(`{}`)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("patch unknown completion: %v", err)
	}
	if cs, _ = s.Completions(p, 0); len(cs) != 1 {
		t.Fatalf("patch of an unknown id created a completion: %d", len(cs))
	}
}

func TestDeleteGate(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"))
	id, _ := s.SaveCompletion(p, 0, []byte(`{}`), false)
	s.UpdateSettings(p, func(st *Settings) error { st.AllowDeleteCompletions = false; return nil })
	if err := s.DeleteCompletion(p, 0, id); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("delete with gate closed: %v", err)
	}
	if err := s.DeleteTaskCompletions(p, 0); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("delete all of task with gate closed: %v", err)
	}
}

func TestNextSampling(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	pred := func(text string, scores ...string) NewTask {
		nt := textTask(text)
		var ps []string
		for _, sc := range scores {
			ps = append(ps, `{"result":[],"score":`+sc+`}`)
		}
		if len(ps) > 0 {
			nt.Predictions = json.RawMessage("[" + strings.Join(ps, ",") + "]")
		}
		return nt
	}
	mustImport(t, s, p, pred("a"), pred("b", "0.5", "0.7"), pred("c", "0.2"), pred("d", "0.9"), pred("e", "0.2"), pred("f", "0.9"))
	next := func(mode string) int64 {
		tk, err := s.NextTask(p, mode)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		return tk.ID
	}
	if id := next(SamplingSequential); id != 0 {
		t.Fatalf("sequential = %d", id)
	}
	if id := next(SamplingScoreMin); id != 2 {
		t.Fatalf("score-min = %d (ties to smallest id)", id)
	}
	if id := next(SamplingScoreMax); id != 3 {
		t.Fatalf("score-max = %d (ties to smallest id)", id)
	}
	s.SaveCompletion(p, 2, []byte(`{}`), true)
	if id := next(SamplingScoreMin); id != 4 {
		t.Fatalf("score-min after skip = %d", id)
	}
	seen := map[int64]bool{}
	for i := 0; i < 200; i++ {
		seen[next(SamplingUniform)] = true
	}
	if len(seen) != 5 || seen[2] {
		t.Fatalf("uniform served %v", seen)
	}
	if _, err := s.NextTask(p, "prediction-score"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown sampling: %v", err)
	}
	if err := s.SetPredictions(p, 0, json.RawMessage(`[{"result":[],"score":0.01}]`)); err != nil {
		t.Fatal(err)
	}
	if id := next(SamplingScoreMin); id != 0 {
		t.Fatalf("score-min after SetPredictions = %d", id)
	}
	for _, id := range []int64{0, 1, 3, 4, 5} {
		s.SaveCompletion(p, id, []byte(`{}`), false)
	}
	for _, m := range []string{SamplingSequential, SamplingUniform, SamplingScoreMin, SamplingScoreMax} {
		if _, err := s.NextTask(p, m); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s with nothing left: %v", m, err)
		}
	}
}

func TestLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	a, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = Open(path, Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second open: %v", err)
	}
}

func TestSettingsApply(t *testing.T) {
	st := DefaultSettings()
	if err := st.Apply([]byte(`{"allow_delete_completions": false, "sampling": "uniform", "custom": {"a": 1}, "label_config": null}`)); err != nil {
		t.Fatal(err)
	}
	if st.AllowDeleteCompletions || st.Sampling != "uniform" || st.Title != "Label Studio" {
		t.Fatalf("apply: %+v", st)
	}
	b, _ := json.Marshal(st)
	if !strings.Contains(string(b), `"custom":{"a":1}`) {
		t.Fatalf("extra key lost: %s", b)
	}
	var back Settings
	if err := json.Unmarshal(b, &back); err != nil || back.Extra["custom"] == nil || back.Sampling != "uniform" {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	if err := st.Apply([]byte(`{"sampling": "bogus"}`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad sampling: %v", err)
	}
	if err := st.Apply([]byte(`[1]`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("non-object: %v", err)
	}
	pub, _ := Settings{Password: "secret", Username: "u"}.Public()
	if strings.Contains(string(pub), "secret") {
		t.Fatal("password leaked")
	}
}

func TestFactsAndUsage(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"), NewTask{Data: []byte(`{"text":"b","extra":1}`), DataKeys: []string{"text", "extra"}})
	res := `{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Pos","Neg"]}},{"from_id":"x","to_id":"y","type":"relation"}]}`
	id, _ := s.SaveCompletion(p, 1, []byte(res), false)
	f, err := s.Facts(p)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(f.CommonDataKeys) != "[text]" || len(f.Triples) != 1 || f.Triples[0] != (Triple{"sentiment", "text", "choices", 1}) {
		t.Fatalf("facts: %+v", f)
	}
	sort.Strings(f.LabelsByFromName["sentiment"])
	if fmt.Sprint(f.LabelsByFromName["sentiment"]) != "[Neg Pos]" {
		t.Fatalf("labels: %v", f.LabelsByFromName)
	}
	ids, n, _ := s.TasksUsing(p, "sentiment", "Neg", 20)
	if fmt.Sprint(ids) != "[1]" || n != 1 {
		t.Fatalf("TasksUsing = %v %d", ids, n)
	}
	s.UpdateCompletion(p, 1, id, []byte(`{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Pos"]}}]}`))
	f, _ = s.Facts(p)
	if fmt.Sprint(f.LabelsByFromName["sentiment"]) != "[Pos]" {
		t.Fatalf("labels after update: %v", f.LabelsByFromName)
	}
	s.DeleteTask(p, 1)
	f, _ = s.Facts(p)
	if len(f.Triples) != 0 || len(f.LabelsByFromName) != 0 || fmt.Sprint(f.CommonDataKeys) != "[text]" {
		t.Fatalf("facts after delete: %+v", f)
	}
	err = s.SetLabelConfig(p, "<View/>", func(Facts) error { return Invalidf("no") })
	if pr, _ := s.Project(p); err == nil || pr.LabelConfig == "<View/>" || pr.Settings.LabelConfigUpdated {
		t.Fatal("refused config change was stored")
	}
	if err := s.SetLabelConfig(p, "<View/>", nil); err != nil {
		t.Fatal(err)
	}
	if pr, _ := s.Project(p); pr.LabelConfig != "<View/>" || !pr.Settings.LabelConfigUpdated {
		t.Fatalf("config not stored: %+v", pr)
	}
}

func TestProjects(t *testing.T) {
	s := openTest(t)
	a, created, err := s.EnsureProject("a", DefaultSettings(), "<View/>")
	if err != nil || !created {
		t.Fatal(err, created)
	}
	if _, created, _ = s.EnsureProject("a", DefaultSettings(), "<View/>"); created {
		t.Fatal("created twice")
	}
	if _, err := s.CreateProject("a", DefaultSettings(), ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	s.CreateProject("b", DefaultSettings(), "")
	if name, err := s.ProjectByUUID(a.UUID); err != nil || name != "a" {
		t.Fatalf("by uuid: %q %v", name, err)
	}
	mustImport(t, s, "b", textTask("x"))
	ps, _ := s.Projects()
	if len(ps) != 2 || ps[1].Tasks != 1 || ps[0].Tasks != 0 {
		t.Fatalf("projects: %+v", ps)
	}
	if err := s.DeleteProject("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Project("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted project: %v", err)
	}
}

func TestSkipDuplicates(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, NewTask{Data: []byte(`{"text":"a","n":1}`)}, textTask("b"))
	res := mustImportSkipping(t, s, p,
		NewTask{Data: []byte(`{ "text": "a",
			"n": 1 }`)}, // same data, other spacing
		textTask("c"), textTask("c"), textTask("b"))
	if fmt.Sprint(res.TaskIDs()) != "[2]" || res.Skipped != 3 {
		t.Fatalf("ids %v skipped %d", res.TaskIDs(), res.Skipped)
	}
	// Without the option duplicates are imported.
	if ids := mustImport(t, s, p, textTask("c")); fmt.Sprint(ids) != "[3]" {
		t.Fatal(ids)
	}
	// A deleted task no longer counts as a duplicate.
	s.DeleteTask(p, 1)
	res = mustImportSkipping(t, s, p, textTask("b"))
	if len(res.TaskIDs()) != 1 {
		t.Fatalf("deleted task still blocks: %+v", res)
	}
}

func TestCompletionRevisions(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"))
	id, _ := s.SaveCompletion(p, 0, []byte(`{"result":[]}`), false)
	rev := func() string {
		cs, _ := s.Completions(p, 0)
		var m map[string]any
		json.Unmarshal(cs[0].Raw, &m)
		return fmt.Sprint(m["revision"])
	}
	if rev() != "1" {
		t.Fatalf("new completion revision %s", rev())
	}
	// Two tabs load revision 1; the first update wins, the second conflicts.
	if err := s.UpdateCompletion(p, 0, id, []byte(`{"revision":1,"lead_time":2}`)); err != nil {
		t.Fatal(err)
	}
	err := s.UpdateCompletion(p, 0, id, []byte(`{"revision":1,"lead_time":3}`))
	var rc *RevisionConflict
	if !errors.As(err, &rc) || !errors.Is(err, ErrConflict) || rc.Revision != 2 || !strings.Contains(string(rc.Current), `"lead_time":2`) {
		t.Fatalf("stale update: %v", err)
	}
	if rev() != "2" {
		t.Fatalf("revision after a refused update: %s", rev())
	}
	// A 0.8.1 client sends no revision: applied.
	if err := s.UpdateCompletion(p, 0, id, []byte(`{"honeypot":true}`)); err != nil || rev() != "3" {
		t.Fatalf("update without revision: %v, revision %s", err, rev())
	}
	// The update path of POST checks it too.
	if _, err := s.SaveCompletion(p, 0, []byte(`{"id":1,"revision":2,"result":[1]}`), false); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale POST update: %v", err)
	}
	if err := s.UpdateCompletion(p, 0, id, []byte(`{"revision":"x"}`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("non-integer revision: %v", err)
	}
}

func TestResultLimits(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"))
	if _, err := s.SaveCompletion(p, 0, []byte(`{"result":{"a":1}}`), false); !errors.Is(err, ErrInvalid) {
		t.Fatalf("result not a list: %v", err)
	}
	big := "[" + strings.Repeat("{},", MaxResults) + "{}]"
	if _, err := s.SaveCompletion(p, 0, []byte(`{"result":`+big+`}`), false); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "at most") {
		t.Fatalf("too many results: %v", err)
	}
	if _, err := s.SaveCompletion(p, 0, []byte(`{"result":null}`), false); err != nil {
		t.Fatalf("null result: %v", err)
	}
}

func TestMLState(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	if v, err := s.MLState(p); err != nil || v != nil {
		t.Fatalf("empty state: %s %v", v, err)
	}
	if err := s.SetMLState(p, json.RawMessage(`{"jobs":{"m1":"42"}}`)); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.MLState(p); string(v) != `{"jobs":{"m1":"42"}}` {
		t.Fatalf("state: %s", v)
	}
	if err := s.SetMLState(p, json.RawMessage(`{`)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad state: %v", err)
	}
}

func TestRenameProject(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"), textTask("b"))
	s.SaveCompletion(p, 1, []byte(`{"result":[]}`), false)
	before, _ := s.Project(p)
	if err := s.RenameProject(p, "renamed"); err != nil {
		t.Fatal(err)
	}
	after, err := s.Project("renamed")
	if err != nil || after.UUID != before.UUID || after.Counters != before.Counters {
		t.Fatalf("renamed: %+v %v", after, err)
	}
	if _, err := s.Project(p); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old name still there: %v", err)
	}
	if tk, err := s.NextTask("renamed", SamplingSequential); err != nil || tk.ID != 0 {
		t.Fatalf("next after rename: %v %v", tk.ID, err)
	}
	s.CreateProject("other", DefaultSettings(), "")
	if err := s.RenameProject("renamed", "other"); !errors.Is(err, ErrConflict) {
		t.Fatalf("rename onto an existing name: %v", err)
	}
	if err := s.RenameProject("nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rename unknown: %v", err)
	}
}

func TestConfigRevision(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	pr, _ := s.Project(p)
	base := pr.ConfigRevision
	if err := s.SetLabelConfigAt(p, "<View/>", base, nil); err != nil {
		t.Fatal(err)
	}
	err := s.SetLabelConfigAt(p, "<View></View>", base, nil)
	var cc *ConfigConflict
	if !errors.As(err, &cc) || !errors.Is(err, ErrConflict) || cc.Current != "<View/>" || cc.Revision != base+1 {
		t.Fatalf("stale save: %v", err)
	}
	if err := s.SetLabelConfig(p, "<View></View>", nil); err != nil {
		t.Fatalf("save without a base: %v", err)
	}
	if pr, _ := s.Project(p); pr.ConfigRevision != base+2 || pr.LabelConfig != "<View></View>" {
		t.Fatalf("after saves: %+v", pr)
	}
}

func TestImportResultRuns(t *testing.T) {
	var r ImportResult
	for _, id := range []int64{5, 6, 7, 10, 11} {
		r.addID(id)
	}
	if fmt.Sprint(r.IDs) != "[{5 3} {10 2}]" || r.Stored != 5 || fmt.Sprint(r.TaskIDs()) != "[5 6 7 10 11]" {
		t.Fatalf("runs %v, stored %d, ids %v", r.IDs, r.Stored, r.TaskIDs())
	}
}
