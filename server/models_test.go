package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/server/ml/mltest"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// syncBuffer collects log lines from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// newMLServer is newTestServer with ML options and a captured log.
func newMLServer(t testing.TB, o MLOptions) (*Server, *store.Store, *syncBuffer) {
	t.Helper()
	st := newTestStore(t, true)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return New(st, Options{Project: "test", Version: "test", Logger: logger, ML: o}), st, logs
}

// newFakeML starts a fake backend expecting the name and the test config;
// at cleanup every protocol violation it saw fails the test.
func newFakeML(t testing.TB, name string, o mltest.Options) *mltest.Fake {
	t.Helper()
	o.Project = name
	o.LabelConfig = labelconfig.LineConfig(textConfig)
	f := mltest.New(o)
	t.Cleanup(func() {
		f.Close()
		for _, p := range f.Problems() {
			t.Errorf("fake ML backend %s: %s", name, p)
		}
	})
	return f
}

// connect adds a backend with PATCH /api/project.
func connect(t testing.TB, s *Server, name, url string) {
	t.Helper()
	spec := url
	if name != "" {
		spec = name + "=" + url
	}
	r := callJSON(t, s, "PATCH", "/api/project", fmt.Sprintf(`{"ml_backend":%q}`, spec))
	if r.status != 201 {
		t.Fatalf("connect %s: %d %s", spec, r.status, r.body)
	}
}

// setBackends writes the backend list directly (no connection check).
func setBackends(t testing.TB, st *store.Store, bs ...store.MLBackend) {
	t.Helper()
	if _, err := st.UpdateSettings("test", func(s *store.Settings) error {
		s.MLBackends = bs
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

type wireTask struct {
	ID          int64             `json:"id"`
	Data        map[string]any    `json:"data"`
	Predictions []wirePrediction  `json:"predictions"`
	Completions []json.RawMessage `json:"completions"`
}

type wirePrediction struct {
	Result      []map[string]any `json:"result"`
	Score       float64          `json:"score"`
	CreatedBy   string           `json:"created_by"`
	CreatedDate string           `json:"created_date"`
}

func storedPredictions(t testing.TB, st *store.Store, id int64) []wirePrediction {
	t.Helper()
	tk, err := st.Task("test", id)
	if err != nil {
		t.Fatal(err)
	}
	var w wireTask
	if err := json.Unmarshal(tk.Raw, &w); err != nil {
		t.Fatal(err)
	}
	return w.Predictions
}

func TestParseMLBackend(t *testing.T) {
	b, err := ParseMLBackend("some/dir/my_project", "http://h:9090")
	if err != nil || !regexp.MustCompile(`^my_project[0-9a-f]{4}$`).MatchString(b.Name) || b.URL != "http://h:9090" {
		t.Errorf("default name: %+v %v", b, err)
	}
	if b, err := ParseMLBackend("p", " yolo=http://h/ml/ "); err != nil || b.Name != "yolo" || b.URL != "http://h/ml/" {
		t.Errorf("named: %+v %v", b, err)
	}
	for _, bad := range []string{"nope", "http://", "a=b=http://h", "=http", "h:9090"} {
		if _, err := ParseMLBackend("p", bad); err == nil || !strings.Contains(err.Error(), "doesn't look like URL") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestMLBackendsManage(t *testing.T) {
	s, st, _ := newMLServer(t, MLOptions{LiveTimeout: time.Second})
	f := newFakeML(t, "", mltest.Options{})
	connect(t, s, "", f.URL)
	connect(t, s, "m1", f.URL+"/")
	var list struct {
		Models []string `json:"models"`
	}
	callJSON(t, s, "GET", "/api/models", "").json(t, &list)
	if len(list.Models) != 2 || !regexp.MustCompile(`^test[0-9a-f]{4}$`).MatchString(list.Models[0]) || list.Models[1] != "m1" {
		t.Fatalf("models: %v", list.Models)
	}
	p, _ := st.Project("test")
	if len(p.Settings.MLBackends) != 2 || p.Settings.MLBackends[1] != (store.MLBackend{Name: "m1", URL: f.URL + "/"}) {
		t.Fatalf("stored: %+v", p.Settings.MLBackends)
	}
	if r := callJSON(t, s, "GET", "/api/project", ""); !strings.Contains(r.body, `"ml_backends":[{"name":"`+list.Models[0]) {
		t.Errorf("project config lacks the backends: %s", r.body)
	}

	down := mltest.DownURL()
	html := newFakeML(t, "", mltest.Options{Modes: map[string]mltest.Behavior{"health": mltest.NotJSON}})
	for _, c := range []struct{ spec, want string }{
		{"nope", `Specified string \"nope\" doesn't look like URL.`},
		{down, `ML backend with URL: \"` + down + `\" is not connected.`},
		{"x=" + html.URL, `is not connected. (GET ` + html.URL + `/health: HTTP 200`},
	} {
		start := time.Now()
		r := callJSON(t, s, "PATCH", "/api/project", fmt.Sprintf(`{"ml_backend":%q}`, c.spec))
		if r.status != 400 || !strings.Contains(r.body, c.want) || !strings.Contains(r.body, `"detail"`) {
			t.Errorf("%s: %d %s", c.spec, r.status, r.body)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("%s: took %v", c.spec, time.Since(start))
		}
	}
	if r := callJSON(t, s, "PATCH", "/api/project", `{"ml_backend":5}`); r.status != 400 {
		t.Errorf("non-string: %d", r.status)
	}

	if r := callJSON(t, s, "DELETE", "/api/models", `{"name":"m1"}`); r.status != 204 || r.body != "" {
		t.Fatalf("delete: %d %q", r.status, r.body)
	}
	r := callJSON(t, s, "DELETE", "/api/models", `{"name":"m1"}`)
	if r.status != 404 || !strings.Contains(r.body, `"detail":"Can't remove ML backend with name \"m1\": not found."`) {
		t.Errorf("delete unknown: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "DELETE", "/api/models", `{}`); r.status != 400 {
		t.Errorf("delete without name: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "POST", "/api/remove-ml-backend", fmt.Sprintf(`{"name":%q}`, list.Models[0])); r.status != 204 {
		t.Errorf("deprecated remove: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "GET", "/api/models", ""); r.body != `{"models":[]}` {
		t.Errorf("after removal: %s", r.body)
	}
}

func TestNoMLBackend(t *testing.T) {
	s, _, _ := newMLServer(t, MLOptions{})
	for _, c := range []struct{ method, url, body string }{
		{"GET", "/api/models/predictions", ""},
		{"POST", "/api/models/predictions", ""},
		{"POST", "/api/models/predictions?mode=data", `{"data":{"text":"x"}}`},
		{"POST", "/api/models/predictions?mode=all_tasks", ""},
		{"GET", "/api/models/predictions?mode=nonsense", ""},
		{"POST", "/predict", `{"text":"x"}`},
		{"POST", "/api/models/train", ""},
		{"POST", "/api/train", ""},
	} {
		r := callJSON(t, s, c.method, c.url, c.body)
		if r.status != 400 || r.body != `"No ML backend"` {
			t.Errorf("%s %s: %d %s", c.method, c.url, r.status, r.body)
		}
	}
	if r := callJSON(t, s, "GET", "/api/models/status", ""); r.status != 200 || r.body != `{"models":[]}` {
		t.Errorf("status: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "GET", "/api/models/predictions/status", ""); r.body != `{"state":"idle"}` {
		t.Errorf("predictions status: %s", r.body)
	}
}

// scoreByText makes the fake score a task by its text "t<n>": n/1000.
func scoreByText(task map[string]json.RawMessage) json.RawMessage {
	var d struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(task["data"], &d)
	var n int
	fmt.Sscanf(d.Text, "t%d", &n)
	return json.RawMessage(fmt.Sprintf(`{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}],"score":%g,"model_version":"v%d"}`, float64(n)/1000, n))
}

const storedPrediction = `{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Negative"]}}],"score":0.99}`

// seedML imports "t0".."t<n-1>", task 1 with a stored prediction.
func seedML(t testing.TB, s *Server, n int) {
	t.Helper()
	items := make([]string, n)
	for i := range items {
		if i == 1 {
			items[i] = fmt.Sprintf(`{"data":{"text":"t%d"},"predictions":[%s]}`, i, storedPrediction)
			continue
		}
		items[i] = fmt.Sprintf(`{"data":{"text":"t%d"}}`, i)
	}
	if r := callJSON(t, s, "POST", "/api/project/import", "["+strings.Join(items, ",")+"]"); r.status != 201 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
}

var createdDateRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$`)

func TestLivePredictions(t *testing.T) {
	s, st, _ := newMLServer(t, MLOptions{LiveTimeout: 2 * time.Second})
	seedML(t, s, 3)
	f := newFakeML(t, "m1", mltest.Options{Result: scoreByText})
	connect(t, s, "m1", f.URL)

	var w wireTask
	r := callJSON(t, s, "GET", "/api/project/next", "")
	r.json(t, &w)
	if r.status != 200 || w.ID != 0 || len(w.Predictions) != 1 || w.Predictions[0].CreatedBy != "m1" ||
		!createdDateRE.MatchString(w.Predictions[0].CreatedDate) || len(w.Predictions[0].Result) != 1 {
		t.Fatalf("next: %d %s", r.status, r.body)
	}
	// The stored prediction of task 1 is replaced in the answer, kept in the store.
	r = callJSON(t, s, "GET", "/api/tasks/1", "")
	w = wireTask{}
	r.json(t, &w)
	if len(w.Predictions) != 1 || w.Predictions[0].Score != 0.001 || w.Predictions[0].CreatedBy != "m1" {
		t.Fatalf("get: %s", r.body)
	}
	if sp := storedPredictions(t, st, 1); len(sp) != 1 || sp[0].Score != 0.99 {
		t.Errorf("live predictions must not be stored: %+v", sp)
	}
	if sp := storedPredictions(t, st, 0); sp != nil {
		t.Errorf("task 0 got stored predictions: %+v", sp)
	}
	if r := callJSON(t, s, "GET", "/api/tasks/2?pretty=1", ""); !strings.Contains(r.body, "\n  \"predictions\": [\n") || !strings.HasSuffix(r.body, "}\n") {
		t.Errorf("pretty: %s", r.body)
	}
	// A completed task is sent with its completions.
	if r := callJSON(t, s, "POST", "/api/tasks/2/completions", `{"result":[]}`); r.status != 201 {
		t.Fatalf("completion: %d %s", r.status, r.body)
	}
	callJSON(t, s, "GET", "/api/tasks/2", "")
	sent := f.Predicted()
	var last wireTask
	if err := json.Unmarshal(sent[len(sent)-1], &last); err != nil || last.ID != 2 || len(last.Completions) != 1 || last.Data["text"] != "t2" {
		t.Errorf("task sent for a completed task: %s", sent[len(sent)-1])
	}
	// Every live request runs health, setup, predict; the list is not asked.
	calls := f.Calls("predict")
	callJSON(t, s, "GET", "/api/tasks", "")
	if f.Calls("predict") != calls || f.Calls("health") < calls || f.Calls("setup") != calls {
		t.Errorf("calls: health %d setup %d predict %d", f.Calls("health"), f.Calls("setup"), f.Calls("predict"))
	}
}

// TestLivePredictionsBadBackends: a hanging, failing, garbled or dead
// backend never delays an answer past the live timeout, never turns it into
// an error, and the stored predictions are served.
func TestLivePredictionsBadBackends(t *testing.T) {
	const budget = 200 * time.Millisecond
	for _, c := range []struct {
		name  string
		modes map[string]mltest.Behavior
		down  bool
	}{
		{name: "hangs on predict", modes: map[string]mltest.Behavior{"predict": mltest.Hang}},
		{name: "hangs on health", modes: map[string]mltest.Behavior{"health": mltest.Hang}},
		{name: "500 on predict", modes: map[string]mltest.Behavior{"predict": mltest.Fail}},
		{name: "500 on setup", modes: map[string]mltest.Behavior{"setup": mltest.Fail}},
		{name: "not JSON", modes: map[string]mltest.Behavior{"predict": mltest.NotJSON}},
		{name: "404 on predict", modes: map[string]mltest.Behavior{"predict": mltest.NotFound}},
		{name: "down", down: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // the time goes in waiting
			s, st, logs := newMLServer(t, MLOptions{LiveTimeout: budget})
			seedML(t, s, 2)
			url := mltest.DownURL()
			if !c.down {
				url = newFakeML(t, "bad", mltest.Options{Modes: c.modes}).URL
			}
			setBackends(t, st, store.MLBackend{Name: "bad", URL: url})
			for _, path := range []string{"/api/tasks/1", "/api/project/next", "/api/tasks/0"} {
				start := time.Now()
				r := callJSON(t, s, "GET", path, "")
				took := time.Since(start)
				if r.status != 200 {
					t.Fatalf("%s: %d %s", path, r.status, r.body)
				}
				if took > budget+700*time.Millisecond {
					t.Errorf("%s took %v with a %v budget", path, took, budget)
				}
				var w wireTask
				r.json(t, &w)
				if w.ID == 1 && (len(w.Predictions) != 1 || w.Predictions[0].Score != 0.99) {
					t.Errorf("%s: stored predictions not kept: %s", path, r.body)
				}
				if w.ID == 0 && len(w.Predictions) != 0 {
					t.Errorf("%s: predictions out of nothing: %s", path, r.body)
				}
			}
			if !strings.Contains(logs.String(), "live prediction failed") {
				t.Errorf("failure not logged: %s", logs)
			}
		})
	}
}

func TestLivePredictionsIsolateBackends(t *testing.T) {
	s, st, _ := newMLServer(t, MLOptions{LiveTimeout: 300 * time.Millisecond})
	seedML(t, s, 2)
	bad := newFakeML(t, "bad", mltest.Options{Modes: map[string]mltest.Behavior{"predict": mltest.Fail}})
	slow := newFakeML(t, "slow", mltest.Options{Modes: map[string]mltest.Behavior{"predict": mltest.Hang}})
	good := newFakeML(t, "good", mltest.Options{Result: scoreByText})
	good2 := newFakeML(t, "good2", mltest.Options{})
	setBackends(t, st, store.MLBackend{Name: "bad", URL: bad.URL}, store.MLBackend{Name: "slow", URL: slow.URL},
		store.MLBackend{Name: "good", URL: good.URL}, store.MLBackend{Name: "good2", URL: good2.URL})
	start := time.Now()
	var w wireTask
	callJSON(t, s, "GET", "/api/tasks/1", "").json(t, &w)
	if time.Since(start) > time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	if len(w.Predictions) != 2 || w.Predictions[0].CreatedBy != "good" || w.Predictions[1].CreatedBy != "good2" {
		t.Errorf("want the two good backends' predictions in config order: %+v", w.Predictions)
	}
}

func TestPredictionsDataMode(t *testing.T) {
	s, _, logs := newMLServer(t, MLOptions{LiveTimeout: 2 * time.Second})
	f := newFakeML(t, "m1", mltest.Options{Result: func(task map[string]json.RawMessage) json.RawMessage {
		return json.RawMessage(`{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}},
			{"from_name":"label","to_name":"image","type":"polygonlabels","value":{}}],"score":0.4}`)
	}})
	connect(t, s, "m1", f.URL)
	for _, c := range []struct{ method, url, body, wantData string }{
		{"POST", "/api/models/predictions?mode=data", `{"data":{"text":"hello"},"id":7}`, "hello"},
		{"POST", "/api/models/predictions", `{"text":"bare"}`, "bare"},
		{"GET", "/api/models/predictions?mode=data", `{"text":"get"}`, "get"},
		{"POST", "/predict", `{"text":"old"}`, "old"},
	} {
		r := callJSON(t, s, c.method, c.url, c.body)
		var w wireTask
		r.json(t, &w)
		if r.status != 200 || w.Data["text"] != c.wantData || len(w.Predictions) != 1 || len(w.Predictions[0].Result) != 1 {
			t.Errorf("%s %s: %d %s", c.method, c.url, r.status, r.body)
		}
		if r.header.Get("X-ML-Invalid-Results") != "1" {
			t.Errorf("%s: the left-out result is not counted: %v", c.url, r.header)
		}
	}
	if !strings.Contains(logs.String(), `ML prediction result left out`) || !strings.Contains(logs.String(), `from_name=\"label\"`) {
		t.Errorf("left-out result not logged: %s", logs)
	}
	for _, c := range []struct{ url, body, want string }{
		{"/api/models/predictions?mode=data", "", `{"detail":"no task data found in request json"}`},
		{"/api/models/predictions?mode=data", `[1]`, `{"detail":"no task data found in request json"}`},
		{"/api/models/predictions?mode=other", `{}`, `{"detail":"unknown mode"}`},
	} {
		if r := callJSON(t, s, "POST", c.url, c.body); r.status != 422 || r.body != c.want {
			t.Errorf("%s %q: %d %s", c.url, c.body, r.status, r.body)
		}
	}
}

type allTasksAnswer struct {
	Details string `json:"details"`
	predictProgress
}

func TestPredictAllTasks(t *testing.T) {
	const n, limit = 1000, 4
	s, st, logs := newMLServer(t, MLOptions{Concurrency: limit, LiveTimeout: 2 * time.Second})
	seedML(t, s, n)
	f := newFakeML(t, "m1", mltest.Options{PredictDelay: time.Millisecond, Result: func(task map[string]json.RawMessage) json.RawMessage {
		var d struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(task["data"], &d)
		var i int
		fmt.Sscanf(d.Text, "t%d", &i)
		score := 0.5 + float64(i%97)/200
		if i == 777 {
			score = 0.01 // the least confident
		}
		extra := ""
		if i%100 == 0 {
			extra = `,{"from_name":"sentiment","to_name":"nothing","type":"choices","value":{}}`
		}
		return json.RawMessage(fmt.Sprintf(`{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}%s],"score":%g}`, extra, score))
	}})
	connect(t, s, "m1", f.URL)

	for run := 1; run <= 2; run++ {
		start := time.Now()
		r := callJSON(t, s, "POST", "/api/models/predictions?mode=all_tasks", "")
		var a allTasksAnswer
		r.json(t, &a)
		if r.status != 200 || a.Details != "predictions are ready" || a.State != "done" || a.Processed != n || a.Predicted != n ||
			a.InvalidResults != n/100 || a.BackendErrors != 0 || a.StoreErrors != 0 {
			t.Fatalf("run %d: %d %s", run, r.status, r.body)
		}
		t.Logf("run %d: %d tasks in %v, max %d requests in flight", run, n, time.Since(start), f.MaxInFlight())
		// Stored, without duplicates, the other source's prediction kept.
		for _, id := range []int64{0, 1, 500, 999} {
			sp := storedPredictions(t, st, id)
			var mine int
			for _, p := range sp {
				if p.CreatedBy == "m1" {
					mine++
				}
			}
			want := 1
			if id == 1 {
				want = 2
			}
			if mine != 1 || len(sp) != want {
				t.Errorf("run %d task %d: predictions %+v", run, id, sp)
			}
			if id == 500 && len(sp[0].Result) != 1 {
				t.Errorf("the invalid result item was stored: %+v", sp)
			}
		}
	}
	if m := f.MaxInFlight(); m > limit || m < 2 {
		t.Errorf("max requests in flight %d, want 2..%d", m, limit)
	}
	if f.Calls("predict") != 2*n {
		t.Errorf("predict calls %d", f.Calls("predict"))
	}
	for _, want := range []string{"ML predictions for all tasks started", "percent=50", "ML predictions for all tasks finished", "invalid_results=10"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
	p, _ := st.Project("test")
	if p.Counters.Predictions != n+1 {
		t.Errorf("prediction counter %d", p.Counters.Predictions)
	}
	var status predictProgress
	callJSON(t, s, "GET", "/api/models/predictions/status", "").json(t, &status)
	if status.State != "done" || status.Processed != n || status.TasksPerSecond <= 0 {
		t.Errorf("status: %+v", status)
	}

	// prediction-score-min serves the least confident task first, whatever
	// the live answer.
	if _, err := st.UpdateSettings("test", func(s *store.Settings) error {
		s.Sampling = store.SamplingScoreMin
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var w wireTask
	callJSON(t, s, "GET", "/api/project/next", "").json(t, &w)
	if w.ID != 777 {
		t.Errorf("prediction-score-min served task %d, want 777", w.ID)
	}
}

func TestPredictAllTasksAsyncAndFailures(t *testing.T) {
	// The timeout must let the good backend answer even on a busy machine;
	// the hanging one costs a timeout per call until its breaker opens.
	s, st, _ := newMLServer(t, MLOptions{Concurrency: 2, LiveTimeout: 300 * time.Millisecond, Timeout: time.Second})
	seedML(t, s, 200)
	good := newFakeML(t, "good", mltest.Options{PredictDelay: 2 * time.Millisecond})
	broken := newFakeML(t, "broken", mltest.Options{Modes: map[string]mltest.Behavior{"predict": mltest.Fail}})
	hang := newFakeML(t, "hang", mltest.Options{Modes: map[string]mltest.Behavior{"predict": mltest.Hang}})
	setBackends(t, st,
		store.MLBackend{Name: "down", URL: mltest.DownURL()},
		store.MLBackend{Name: "broken", URL: broken.URL},
		store.MLBackend{Name: "hang", URL: hang.URL},
		store.MLBackend{Name: "good", URL: good.URL})

	r := callJSON(t, s, "POST", "/api/models/predictions?mode=all_tasks&async=1", "")
	if r.status != 202 || !strings.Contains(r.body, `"state":"running"`) {
		t.Fatalf("async start: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "POST", "/api/models/predictions?mode=all_tasks", ""); r.status != 409 || !strings.Contains(r.body, "already running") {
		t.Errorf("second run: %d %s", r.status, r.body)
	}
	var p predictProgress
	deadline := time.Now().Add(20 * time.Second)
	for {
		callJSON(t, s, "GET", "/api/models/predictions/status", "").json(t, &p)
		if p.State != "running" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p.State != "done" || p.Processed != 200 || p.Predicted != 200 {
		t.Fatalf("final: %+v", p)
	}
	// The dead backend is left out at the start; the failing ones stop
	// being asked after mlBreakerFailures failures in a row.
	if broken.Calls("predict") > mlBreakerFailures+2 || hang.Calls("predict") > mlBreakerFailures+2 {
		t.Errorf("failing backends asked %d and %d times", broken.Calls("predict"), hang.Calls("predict"))
	}
	joined := strings.Join(p.Errors, "\n")
	for _, want := range []string{"down: not connected", "broken: boom in predict", "not asked any more"} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors lack %q: %s", want, joined)
		}
	}
	if !equalStrings(p.Backends, []string{"broken", "hang", "good"}) {
		t.Errorf("backends %v", p.Backends)
	}
	if sp := storedPredictions(t, st, 5); len(sp) != 1 || sp[0].CreatedBy != "good" {
		t.Errorf("task 5: %+v", sp)
	}

	// Nothing connected: a clear 400.
	setBackends(t, st, store.MLBackend{Name: "down", URL: mltest.DownURL()})
	if r := callJSON(t, s, "POST", "/api/models/predictions?mode=all_tasks", ""); r.status != 400 || !strings.Contains(r.body, "don't have any ML backend connected") {
		t.Errorf("none connected: %d %s", r.status, r.body)
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

func TestTrain(t *testing.T) {
	s, st, _ := newMLServer(t, MLOptions{LiveTimeout: 300 * time.Millisecond})
	seedML(t, s, 4)
	f := newFakeML(t, "m1", mltest.Options{})
	connect(t, s, "m1", f.URL)

	// The SDK's own error text reaches the person.
	r := callJSON(t, s, "POST", "/api/models/train", "")
	if r.status != 500 || !strings.Contains(r.body, `"detail":"Can't update model: ML backend returns an error: No completions found."`) {
		t.Fatalf("no completions: %d %s", r.status, r.body)
	}
	for _, id := range []int{3, 1} {
		if r := callJSON(t, s, "POST", fmt.Sprintf("/api/tasks/%d/completions", id), `{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`); r.status != 201 {
			t.Fatal(r.body)
		}
	}
	if r := callJSON(t, s, "POST", "/api/models/train", ""); r.status != 200 || r.body != `{"details":"Training started"}` {
		t.Fatalf("train: %d %s", r.status, r.body)
	}
	tr := f.TrainRequests()
	last := tr[len(tr)-1]
	var ids []int64
	for _, rec := range last.Completions {
		var w wireTask
		_ = json.Unmarshal(rec, &w)
		ids = append(ids, w.ID)
	}
	if fmt.Sprint(ids) != "[1 3]" || last.Project != "m1" {
		t.Errorf("train body: ids %v project %q", ids, last.Project)
	}

	// Already training (the backend says so).
	f.Update(func(o *mltest.Options) { o.Training = true })
	if r := callJSON(t, s, "POST", "/api/train", ""); r.status != 500 || !strings.Contains(r.body, "Can't start new training: Train job is running.") {
		t.Errorf("is_training: %d %s", r.status, r.body)
	}
	// A remembered job that is still running.
	f.Update(func(o *mltest.Options) {
		o.Training = false
		o.Job = "job-1"
		o.JobStatus = "started"
		o.Modes = map[string]mltest.Behavior{"job_status": mltest.OK}
	})
	if r := callJSON(t, s, "POST", "/api/models/train", ""); r.status != 200 {
		t.Fatalf("train with job: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "POST", "/api/models/train", ""); r.status != 500 || !strings.Contains(r.body, "Train job is running") {
		t.Errorf("job started: %d %s", r.status, r.body)
	}
	f.Update(func(o *mltest.Options) { o.JobStatus = "finished" })
	if r := callJSON(t, s, "POST", "/api/models/train", ""); r.status != 200 {
		t.Errorf("job finished: %d %s", r.status, r.body)
	}
	// /is_training fails.
	f.Update(func(o *mltest.Options) { o.Modes = map[string]mltest.Behavior{"is_training": mltest.Fail} })
	if r := callJSON(t, s, "POST", "/api/models/train", ""); r.status != 500 || !strings.Contains(r.body, "Can't validate whether model is training for project test: boom in is_training") {
		t.Errorf("is_training fails: %d %s", r.status, r.body)
	}
	// A long training answers "started" and is seen in the status.
	f.Update(func(o *mltest.Options) { o.Modes = nil; o.Job = ""; o.TrainDelay = 500 * time.Millisecond })
	start := time.Now()
	if r := callJSON(t, s, "POST", "/api/models/train", ""); r.status != 200 || time.Since(start) > 480*time.Millisecond {
		t.Errorf("long training: %d %s after %v", r.status, r.body, time.Since(start))
	}
	var ms struct {
		Models []modelStatus `json:"models"`
	}
	callJSON(t, s, "GET", "/api/models/status", "").json(t, &ms)
	if len(ms.Models) != 1 || !ms.Models[0].Training || ms.Models[0].Status != "training" {
		t.Errorf("status while training: %+v", ms)
	}
	if r := callJSON(t, s, "POST", "/api/models/train", ""); r.status != 500 || !strings.Contains(r.body, "Train job is running") {
		t.Errorf("second training while ours runs: %d %s", r.status, r.body)
	}
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		callJSON(t, s, "GET", "/api/models/status", "").json(t, &ms)
		if !ms.Models[0].Training {
			break
		}
	}
	if ms.Models[0].Training || ms.Models[0].Status != "connected" {
		t.Errorf("status after training: %+v", ms)
	}
	// Nothing connected.
	setBackends(t, st, store.MLBackend{Name: "down", URL: mltest.DownURL()})
	if r := callJSON(t, s, "POST", "/api/models/train", ""); r.status != 400 || r.body != `"Training is not started: seems that you don't have any ML backend connected"` {
		t.Errorf("none connected: %d %s", r.status, r.body)
	}
}

func TestModelsStatus(t *testing.T) {
	s, st, _ := newMLServer(t, MLOptions{LiveTimeout: 300 * time.Millisecond})
	good := newFakeML(t, "good", mltest.Options{ModelVersion: "1605867072"})
	broken := newFakeML(t, "broken", mltest.Options{Modes: map[string]mltest.Behavior{"setup": mltest.Fail}})
	hang := newFakeML(t, "hang", mltest.Options{Modes: map[string]mltest.Behavior{"is_training": mltest.Hang}})
	setBackends(t, st,
		store.MLBackend{Name: "good", URL: good.URL},
		store.MLBackend{Name: "down", URL: mltest.DownURL()},
		store.MLBackend{Name: "broken", URL: broken.URL},
		store.MLBackend{Name: "hang", URL: hang.URL})
	start := time.Now()
	var ms struct {
		Models []modelStatus `json:"models"`
	}
	callJSON(t, s, "GET", "/api/models/status", "").json(t, &ms)
	if time.Since(start) > time.Second {
		t.Errorf("status took %v", time.Since(start))
	}
	if len(ms.Models) != 4 {
		t.Fatalf("%+v", ms)
	}
	g, d, b, h := ms.Models[0], ms.Models[1], ms.Models[2], ms.Models[3]
	if g.Status != "connected" || !g.Connected || g.ModelDir != "my_backend" || g.ModelVersion != "1605867072" ||
		g.ModelVersionDate != "Fri Nov 20 10:11:12 2020" || g.Error != "" || g.URL != good.URL {
		t.Errorf("good: %+v", g)
	}
	if d.Status != "disconnected" || d.Connected || !strings.Contains(d.Error, "refused") {
		t.Errorf("down: %+v", d)
	}
	if b.Status != "error" || !b.Connected || b.Error != "boom in setup" || b.LastError != "boom in setup" || b.LastErrorAt == "" {
		t.Errorf("broken: %+v", b)
	}
	if h.Status != "error" || !strings.Contains(h.Error, "deadline") {
		t.Errorf("hang: %+v", h)
	}
}

func TestDeleteAllTasksTellsBackends(t *testing.T) {
	s, _, _ := newMLServer(t, MLOptions{LiveTimeout: time.Second})
	seedML(t, s, 2)
	f := newFakeML(t, "m1", mltest.Options{})
	connect(t, s, "m1", f.URL)
	if r := callJSON(t, s, "DELETE", "/api/tasks", ""); r.status != 204 {
		t.Fatal(r.body)
	}
	for deadline := time.Now().Add(2 * time.Second); f.Calls("delete") == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if f.Calls("delete") != 1 {
		t.Errorf("delete calls: %d", f.Calls("delete"))
	}
}

// peakHeap samples the live heap every few milliseconds until stop.
func peakHeap(stop <-chan struct{}) func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { <-done; return peak.Load() }
}

// BenchmarkPredictAllTasks10k runs mode=all_tasks over 10,000 tasks
// against the fake backend with the default concurrency, on a store that
// fsyncs every commit (as in production) and on one that does not (the
// ceiling of the ML side), and reports tasks/s and the peak live heap.
//
//	go test ./server -run '^$' -bench PredictAllTasks10k -benchtime 2x
func BenchmarkPredictAllTasks10k(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		name := "fsync"
		if noSync {
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) { benchAllTasks(b, noSync) })
	}
}

func benchAllTasks(b *testing.B, noSync bool) {
	const n = 10000
	st, err := store.Open(filepath.Join(b.TempDir(), "t.db"), store.Options{Timeout: time.Second, NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateProject("test", store.DefaultSettings(), textConfig); err != nil {
		b.Fatal(err)
	}
	logs := &syncBuffer{}
	s := New(st, Options{Project: "test", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	seedML(b, s, n)
	f := newFakeML(b, "m1", mltest.Options{Result: scoreByText})
	connect(b, s, "m1", f.URL)
	runtime.GC()
	stop := make(chan struct{})
	peak := peakHeap(stop)
	b.ResetTimer()
	for b.Loop() {
		r := callJSON(b, s, "POST", "/api/models/predictions?mode=all_tasks", "")
		if r.status != 200 || !strings.Contains(r.body, `"predicted":10000`) {
			b.Fatalf("%d %s", r.status, r.body)
		}
	}
	b.StopTimer()
	close(stop)
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tasks/s")
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(f.MaxInFlight()), "max-in-flight")
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, "finished") {
			b.Log(line)
		}
	}
}

func TestTrainJobSurvivesRestart(t *testing.T) {
	s, st := newTestServer(t)
	s.saveTrainJob("test", "model_a", "job-17")
	s.saveTrainJob("test", "model_b", "job-3")
	again := New(st, Options{Project: "test"})
	if got := again.storedTrainJob("test", "model_a"); got != "job-17" {
		t.Fatalf("train job after restart: %q", got)
	}
	if got := again.storedTrainJob("test", "nobody"); got != "" {
		t.Fatalf("unknown backend: %q", got)
	}
}
