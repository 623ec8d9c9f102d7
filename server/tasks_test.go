package server

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

func TestTaskEndpoints(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "get pending", setup: seed("a", "b"), method: "GET", url: "/api/tasks/1", wantStatus: 200, want: []string{`{"id":1,"data":{"text":"b"}}`}, notWant: []string{"completions"}},
		{name: "get completed", setup: seedCompleted, method: "GET", url: "/api/tasks/1/", wantStatus: 200,
			want: []string{`"completions":[{`, `"id":1001`, `"predictions":[]`, `"lead_time":2`}, notWant: []string{"completed_at"}},
		{name: "get pretty", setup: seed("a"), method: "GET", url: "/api/tasks/0?pretty=1", wantStatus: 200, want: []string{"{\n  \"id\": 0,"}},
		{name: "get unknown", setup: seed("a"), method: "GET", url: "/api/tasks/5", wantStatus: 404, want: []string{`"detail":"task 5 not found"`}},
		{name: "get negative", setup: seed("a"), method: "GET", url: "/api/tasks/-1", wantStatus: 404},
		{name: "get non-integer", method: "GET", url: "/api/tasks/abc", wantStatus: 400, want: []string{"not a valid id"}},
		{name: "get huge id", method: "GET", url: "/api/tasks/99999999999999999999999", wantStatus: 400},
		{name: "delete", setup: seed("a"), method: "DELETE", url: "/api/tasks/0", wantStatus: 204},
		{name: "delete unknown", method: "DELETE", url: "/api/tasks/3", wantStatus: 404},
		{name: "delete all", setup: seed("a"), method: "DELETE", url: "/api/tasks", wantStatus: 204},
		{name: "delete all alias", setup: seed("a"), method: "DELETE", url: "/api/tasks/delete", wantStatus: 204},
		{name: "list default", setup: seed("a", "b", "c"), method: "GET", url: "/api/tasks", wantStatus: 200, want: []string{`[{"id":0,`, `{"id":2,"data":{"text":"c"}}]`}},
		{name: "list page 2", setup: seed("a", "b", "c"), method: "GET", url: "/api/tasks?page=2&page_size=2", wantStatus: 200, want: []string{`[{"id":2,`}},
		{name: "list past end", setup: seed("a"), method: "GET", url: "/api/tasks?page=9223372036854775807", wantStatus: 200, want: []string{`[]`}},
		{name: "list huge page size", setup: seed("a"), method: "GET", url: "/api/tasks?page=2&page_size=9223372036854775807", wantStatus: 200, want: []string{`[]`}},
		{name: "list page 0", method: "GET", url: "/api/tasks?page=0", wantStatus: 422, want: []string{`{"detail":"Incorrect page or page_size"}`}},
		{name: "list page_size -1", method: "GET", url: "/api/tasks?page_size=-1", wantStatus: 422},
		{name: "list page text", method: "GET", url: "/api/tasks?page=x", wantStatus: 422},
		{name: "list page overflow", method: "GET", url: "/api/tasks?page=99999999999999999999", wantStatus: 422},
		{name: "list bad order", method: "GET", url: "/api/tasks?order=name", wantStatus: 422, want: []string{`{"detail":"Incorrect order"}`}},
		{name: "list completed fields", setup: seedCompleted, method: "GET", url: "/api/tasks?order=-completed_at&page_size=1", wantStatus: 200,
			want: []string{`"id":1,`, `"completed_at":"`, `"has_cancelled_completions":0`, `"predictions":[]`}},
		{name: "list fields", setup: seedCompleted, method: "GET", url: "/api/tasks?fields=id,completed_at", wantStatus: 200,
			want: []string{`[{"id":0},{"completed_at":"`}, notWant: []string{`"data"`}},
		{name: "completions ids", setup: seedCompleted, method: "GET", url: "/api/completions", wantStatus: 200, want: []string{`{"ids":[1]}`}},
		{name: "completions ids alias", setup: seedCompleted, method: "GET", url: "/api/projects/1/completions_ids", wantStatus: 200, want: []string{`[1]`}},
		{name: "delete all completions", setup: seedCompleted, method: "DELETE", url: "/api/completions", wantStatus: 201, want: []string{"done"}},
		{name: "next", setup: seed("a", "b"), method: "GET", url: "/api/project/next", wantStatus: 200, want: []string{`{"id":0,"data":{"text":"a"}}`}},
		{name: "next none", method: "GET", url: "/api/project/next", wantStatus: 404},
		{name: "next alias", setup: seed("a"), method: "GET", url: "/api/projects/1/next", wantStatus: 200},
	})
}

func TestCompletionEndpoints(t *testing.T) {
	noDelete := func(t *testing.T, s *Server) {
		seedCompleted(t, s)
		s.st.UpdateSettings("test", func(st *storeSettings) error { st.AllowDeleteCompletions = false; return nil })
	}
	runScenarios(t, []scenario{
		{name: "create", setup: seed("a"), method: "POST", url: "/api/tasks/0/completions", body: `{"result":[],"lead_time":1}`, wantStatus: 201, want: []string{`{"id":1}`}},
		{name: "create trailing slash", setup: seed("a"), method: "POST", url: "/api/tasks/0/completions/", body: `{"result":[]}`, wantStatus: 201},
		{name: "create unknown task", method: "POST", url: "/api/tasks/9/completions", body: `{"result":[]}`, wantStatus: 404},
		{name: "create empty body", setup: seed("a"), method: "POST", url: "/api/tasks/0/completions", contentType: "application/json", wantStatus: 400},
		{name: "create malformed", setup: seed("a"), method: "POST", url: "/api/tasks/0/completions", body: `{"result":`, wantStatus: 400, want: []string{"not valid JSON"}},
		{name: "create scalar", setup: seed("a"), method: "POST", url: "/api/tasks/0/completions", body: `[1,2]`, wantStatus: 400, want: []string{"JSON object"}},
		{name: "patch", setup: seedCompleted, method: "PATCH", url: "/api/tasks/1/completions/1001", body: `{"honeypot":true}`, wantStatus: 201, want: []string{"ok"}},
		{name: "patch null", setup: seedCompleted, method: "PATCH", url: "/api/tasks/1/completions/null", body: `{}`, wantStatus: 200, want: []string{"completion id is null"}},
		{name: "patch unknown", setup: seedCompleted, method: "PATCH", url: "/api/tasks/1/completions/1009", body: `{}`, wantStatus: 404},
		{name: "patch bad id", setup: seedCompleted, method: "PATCH", url: "/api/tasks/1/completions/zz", body: `{}`, wantStatus: 400},
		{name: "delete one", setup: seedCompleted, method: "DELETE", url: "/api/tasks/1/completions/1001", wantStatus: 204},
		{name: "delete of uncompleted task", setup: seedCompleted, method: "DELETE", url: "/api/tasks/0/completions/1", wantStatus: 204},
		{name: "delete all of task", setup: seedCompleted, method: "DELETE", url: "/api/tasks/1/completions", wantStatus: 204},
		{name: "delete gated", setup: noDelete, method: "DELETE", url: "/api/tasks/1/completions/1001", wantStatus: 422, want: []string{`{"detail":"Completion removing is not allowed in server config"}`}},
		{name: "delete all gated", setup: noDelete, method: "DELETE", url: "/api/tasks/1/completions", wantStatus: 422},
	})
}

// TestCountersAndNextThroughTheAPI walks a project through import,
// completion, skip, PATCH and every delete, checking the counters and next
// task after each step.
func TestCountersAndNextThroughTheAPI(t *testing.T) {
	s, _ := newTestServer(t)
	check := func(step string, tasks, completed int, next string) {
		t.Helper()
		var p struct {
			TaskCount       int `json:"task_count"`
			CompletionCount int `json:"completion_count"`
		}
		callJSON(t, s, "GET", "/api/project", "").json(t, &p)
		if p.TaskCount != tasks || p.CompletionCount != completed {
			t.Fatalf("%s: task_count=%d completion_count=%d, want %d %d", step, p.TaskCount, p.CompletionCount, tasks, completed)
		}
		r := callJSON(t, s, "GET", "/api/project/next", "")
		got := "none"
		if r.status == 200 {
			var tk struct{ ID int }
			r.json(t, &tk)
			got = fmt.Sprint(tk.ID)
		} else if r.status != 404 {
			t.Fatalf("%s: next status %d", step, r.status)
		}
		if got != next {
			t.Fatalf("%s: next = %s, want %s", step, got, next)
		}
	}
	importTexts(t, s, "a", "b", "c", "d")
	check("import", 4, 0, "0")
	callJSON(t, s, "POST", "/api/tasks/0/completions", `{"result":[]}`)
	check("complete 0", 4, 1, "1")
	callJSON(t, s, "POST", "/api/tasks/1/completions?was_cancelled=1", `{"result":[]}`)
	check("skip 1", 4, 2, "2")
	callJSON(t, s, "POST", "/api/tasks/2/completions?was_cancelled=0", `{"result":[],"was_cancelled":true}`)
	check("was_cancelled=0 is a plain completion", 4, 3, "3")
	r := callJSON(t, s, "GET", "/api/tasks/2", "")
	if strings.Contains(r.body, "was_cancelled") {
		t.Fatalf("was_cancelled kept without the query flag: %s", r.body)
	}
	callJSON(t, s, "PATCH", "/api/tasks/1/completions/1001", `{"was_cancelled":true}`)
	r = callJSON(t, s, "GET", "/api/tasks?order=has_cancelled_completions&page_size=1", "")
	if !strings.Contains(r.body, `"has_cancelled_completions":0`) {
		t.Fatalf("PATCH did not un-skip: %s", r.body)
	}
	check("patch", 4, 3, "3")
	callJSON(t, s, "DELETE", "/api/tasks/0/completions/1", "")
	check("delete the only completion of 0", 4, 2, "0")
	callJSON(t, s, "DELETE", "/api/tasks/0", "")
	check("delete task 0", 3, 2, "3")
	callJSON(t, s, "DELETE", "/api/tasks/1/completions", "")
	check("delete completions of 1", 3, 1, "1")
	callJSON(t, s, "DELETE", "/api/completions", "")
	check("delete all completions", 3, 0, "1")
	callJSON(t, s, "DELETE", "/api/tasks", "")
	check("delete all tasks", 0, 0, "none")
}

func TestBasicAuth(t *testing.T) {
	s, st := newTestServer(t)
	s = New(st, Options{Project: "test", Password: "pw"})
	if r := call(t, s, "GET", "/api/health", "", ""); r.status != 401 || r.header.Get("WWW-Authenticate") != `Basic realm="Login Required"` {
		t.Fatalf("no credentials: %d %v", r.status, r.header)
	}
	req := func(user, pass string) int {
		rq := newRequest("GET", "/api/project")
		rq.SetBasicAuth(user, pass)
		resp, err := s.App().Test(rq, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := req("ls", "pw"); c != 200 {
		t.Fatalf("right credentials: %d", c)
	}
	if c := req("ls", "bad"); c != 401 {
		t.Fatalf("wrong password: %d", c)
	}
	// Pages, media and uploads need the credentials too; the bundled static
	// assets do not.
	for _, path := range []string{"/", "/tasks", "/setup", "/data/upload/x.png", "/upload/x.png", "/version", "/api/health", "/render-label-studio?config=%3CView/%3E"} {
		if r := call(t, s, "GET", path, "", ""); r.status != 401 {
			t.Errorf("%s without credentials: %d", path, r.status)
		}
	}
	if r := call(t, s, "GET", "/static/samples/sample.jpg", "", ""); r.status != 200 {
		t.Errorf("static asset behind auth: %d", r.status)
	}
}

func TestCompletionConflict(t *testing.T) {
	s, _ := newTestServer(t)
	seedCompleted(t, s)
	if r := callJSON(t, s, "PATCH", "/api/tasks/1/completions/1001", `{"revision":1,"lead_time":5}`); r.status != 201 {
		t.Fatalf("first update: %d %s", r.status, r.body)
	}
	r := callJSON(t, s, "PATCH", "/api/tasks/1/completions/1001", `{"revision":1,"lead_time":9}`)
	if r.status != 409 || !strings.Contains(r.body, `"revision":2`) || !strings.Contains(r.body, `"lead_time":5`) || !strings.Contains(r.body, `"detail":"the completion was changed meanwhile`) {
		t.Fatalf("stale update: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "GET", "/api/tasks/1", ""); !strings.Contains(r.body, `"lead_time":5`) || !strings.Contains(r.body, `"revision":2`) {
		t.Fatalf("stored after conflict: %s", r.body)
	}
}

// decodedPredictions is how a JSON decoder sees a task's predictions key:
// what hasPredictions must agree with.
func decodedPredictions(raw []byte) bool {
	var probe struct {
		Predictions json.RawMessage `json:"predictions"`
	}
	_ = json.Unmarshal(raw, &probe)
	return len(probe.Predictions) > 0
}

var predictionsSeeds = []string{
	`{"id":1,"data":{"text":"a"}}`,
	`{"id":1,"data":{"text":"a"},"predictions":[{"result":[],"score":0.5}]}`,
	`{"id":1,"data":{"text":"a"},"predictions":[]}`,
	`{"id":1,"data":{"text":"a"},"predictions":null}`,
	`{"data":{"predictions":[1]},"id":1,"meta":{"predictions":2},"task_path":"predictions"}`,
	`{"id":1,"data":{"text":"\"predictions\":[1]"}}`,
	`{"id":1,"Predictions":[1]}`,
	`{"id":1,"pre\u0064ictions":[1]}`,
	`{"id":1,"predictionſ":[1]}`,
	`{"id":1,"prediction":[1],"predictionss":[1]}`,
	`{ "id" : 1 , "predictions" : [ ] }`,
	`{}`,
}

func TestHasPredictions(t *testing.T) {
	want := []bool{false, true, true, true, false, false, true, true, true, false, true, false}
	for i, raw := range predictionsSeeds {
		if got := hasPredictions([]byte(raw)); got != want[i] || got != decodedPredictions([]byte(raw)) {
			t.Errorf("%s: got %v, want %v", raw, got, want[i])
		}
	}
}

// FuzzHasPredictions: on any JSON object, hasPredictions agrees with a full
// decode.
func FuzzHasPredictions(f *testing.F) {
	for _, seed := range predictionsSeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		b := bytes.TrimSpace([]byte(raw))
		if !json.Valid(b) || len(b) == 0 || b[0] != '{' {
			return
		}
		if got, want := hasPredictions(b), decodedPredictions(b); got != want {
			t.Fatalf("%s: got %v, want %v", raw, got, want)
		}
	})
}

// TestRenderTaskPredictions: a completed task gets an empty predictions list
// only when it has no predictions key; the rest of its JSON is kept as
// stored.
func TestRenderTaskPredictions(t *testing.T) {
	s, st := newTestServer(t)
	ids := importTexts(t, s, "a", "b", "c")
	for _, id := range ids {
		if r := callJSON(t, s, "POST", "/api/tasks/"+strconv.FormatInt(id, 10)+"/completions", `{"result":[]}`); r.status != 201 {
			t.Fatal(r.status, r.body)
		}
	}
	if err := st.SetPredictions("test", ids[1], []byte(`[{"result":[],"score":0.5}]`)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPredictions("test", ids[2], []byte(`[]`)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`"predictions":[]`, `"predictions":[{"result":[],"score":0.5}]`, `"predictions":[]`} {
		tk, err := st.Task("test", ids[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []renderMode{renderGet, renderList} {
			got := renderTask(tk, mode)
			if !json.Valid(got) || bytes.Count(got, []byte(`"predictions":`)) != 1 || !bytes.Contains(got, []byte(want)) {
				t.Errorf("task %d, mode %d: %s", ids[i], mode, got)
			}
			if raw := bytes.TrimSpace(tk.Raw); !bytes.HasPrefix(got, raw[:len(raw)-1]) {
				t.Errorf("task %d, mode %d: stored JSON not kept: %s", ids[i], mode, got)
			}
		}
	}
}
