package ml

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/server/ml/mltest"
)

const lineCfg = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/></Choices></View>`

func newFake(t *testing.T, o mltest.Options) *mltest.Fake {
	t.Helper()
	f := mltest.New(o)
	t.Cleanup(func() {
		f.Close()
		for _, p := range f.Problems() {
			t.Errorf("fake ML backend: %s", p)
		}
	})
	return f
}

func TestJoinURL(t *testing.T) {
	for _, c := range []struct{ base, ep, want string }{
		{"http://h:9090", "predict", "http://h:9090/predict"},
		{"http://h:9090/", "predict", "http://h:9090/predict"},
		{"http://h/ml/", "predict", "http://h/ml/predict"},
		{"http://h/ml", "predict", "http://h/ml/predict"},
		{"https://h/a/b", "is_training", "https://h/a/b/is_training"},
	} {
		got, err := JoinURL(c.base, c.ep)
		if err != nil || got != c.want {
			t.Errorf("JoinURL(%q, %q) = %q, %v; want %q", c.base, c.ep, got, err, c.want)
		}
	}
}

func TestProtocol(t *testing.T) {
	f := newFake(t, mltest.Options{Project: "my model", LabelConfig: lineCfg, ModelVersion: "1605866645", Job: "42",
		Modes: map[string]mltest.Behavior{"job_status": mltest.OK}, JobStatus: "finished"})
	c := New(Options{})
	defer c.CloseIdleConnections()
	ctx := context.Background()
	b := Backend{Name: "my model", URL: f.URL}

	h, err := c.Health(ctx, f.URL)
	if err != nil || h.Status != "UP" || h.ModelDir == "" {
		t.Fatalf("health: %+v %v", h, err)
	}
	v, err := c.Setup(ctx, b, lineCfg)
	if err != nil || v != "1605866645" {
		t.Fatalf("setup: %q %v", v, err)
	}
	task := json.RawMessage(`{"id":3,"data":{"text":"hello"},"predictions":[]}`)
	resp, err := c.Predict(ctx, b, v, lineCfg, []json.RawMessage{task})
	if err != nil || len(resp.Results) != 1 || resp.ModelVersion != "1605866645" {
		t.Fatalf("predict: %+v %v", resp, err)
	}
	job, err := c.Train(ctx, b, lineCfg, func(emit func([]byte) error) error {
		for _, r := range []string{`{"id":1,"data":{"text":"a"},"completions":[{"id":1001,"result":[]}]}`, `{"id":2,"data":{"text":"b"},"completions":[{"id":2001,"result":[]}]}`} {
			if err := emit([]byte(r)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || job != "42" {
		t.Fatalf("train: %q %v", job, err)
	}
	if tr := f.TrainRequests(); len(tr) != 1 || len(tr[0].Completions) != 2 {
		t.Fatalf("train bodies: %+v", tr)
	}
	st, err := c.IsTraining(ctx, b)
	if err != nil || st.IsTraining || !st.HasModelVersion || st.ModelVersion != "1605866645" {
		t.Fatalf("is_training: %+v %v", st, err)
	}
	js, err := c.JobStatus(ctx, b, "42")
	if err != nil || js != "finished" {
		t.Fatalf("job_status: %q %v", js, err)
	}
	f.Update(func(o *mltest.Options) { o.Modes = nil })
	err = c.Delete(ctx, b)
	if e, ok := AsError(err); !ok || !e.NotSupported() {
		t.Fatalf("delete on the SDK (no route) should be NotSupported, got %v", err)
	}
	for _, ep := range []string{"health", "setup", "predict", "train", "is_training", "job_status", "delete"} {
		if f.Calls(ep) != 1 {
			t.Errorf("%s called %d times", ep, f.Calls(ep))
		}
	}
}

func TestTrainNoCompletions(t *testing.T) {
	f := newFake(t, mltest.Options{})
	c := New(Options{})
	_, err := c.Train(context.Background(), Backend{Name: "m", URL: f.URL}, lineCfg, func(func([]byte) error) error { return nil })
	if err == nil || Message(err) != "No completions found." {
		t.Fatalf("want the SDK's message, got %v (%q)", err, Message(err))
	}
	if !strings.Contains(err.Error(), "HTTP 400") || !strings.Contains(err.Error(), f.URL+"/train") {
		t.Errorf("error should name URL and status: %v", err)
	}
}

func TestErrors(t *testing.T) {
	f := newFake(t, mltest.Options{Modes: map[string]mltest.Behavior{"predict": mltest.Fail, "setup": mltest.NotJSON}})
	c := New(Options{})
	ctx := context.Background()
	b := Backend{Name: "m", URL: f.URL + "/"}

	_, err := c.Predict(ctx, b, "1", lineCfg, []json.RawMessage{json.RawMessage(`{"id":1,"data":{},"predictions":[]}`)})
	e, ok := AsError(err)
	if !ok || e.Status != 500 {
		t.Fatalf("want an HTTP 500 error, got %v", err)
	}
	for _, want := range []string{"POST " + f.URL + "/predict", "HTTP 500", `"detail": "boom in predict"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if e.Message() != "boom in predict" {
		t.Errorf("message %q", e.Message())
	}

	_, err = c.Setup(ctx, b, lineCfg)
	if e, ok := AsError(err); !ok || e.Status != 200 || !strings.Contains(err.Error(), "not the expected JSON") || !strings.Contains(err.Error(), "<html>") {
		t.Fatalf("non-JSON answer: %v", err)
	}

	down := mltest.DownURL()
	start := time.Now()
	_, err = c.Health(ctx, down)
	if err == nil || !strings.Contains(err.Error(), down+"/health") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("down backend: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("down backend took %v", time.Since(start))
	}
}

// dialFailer fails the first n round trips as a refused connection would.
type dialFailer struct {
	n, calls atomic.Int32
	next     http.RoundTripper
}

func (d *dialFailer) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.calls.Add(1) <= d.n.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	}
	return d.next.RoundTrip(r)
}

func TestRetriesConnectionFailures(t *testing.T) {
	f := newFake(t, mltest.Options{})
	c := New(Options{RetryDelay: time.Millisecond})
	d := &dialFailer{next: c.hc.Transport}
	c.hc.Transport = d

	d.n.Store(2)
	if _, err := c.Health(context.Background(), f.URL); err != nil || d.calls.Load() != 3 {
		t.Fatalf("two failures then success: err %v after %d attempts", err, d.calls.Load())
	}
	d.calls.Store(0)
	d.n.Store(3)
	if _, err := c.Health(context.Background(), f.URL); err == nil || d.calls.Load() != 3 {
		t.Fatalf("three failures: err %v after %d attempts (want 3)", err, d.calls.Load())
	}
	// A failure after the connection (a 500) is not retried.
	f.Update(func(o *mltest.Options) { o.Modes = map[string]mltest.Behavior{"health": mltest.Fail} })
	d.calls.Store(0)
	d.n.Store(0)
	if _, err := c.Health(context.Background(), f.URL); err == nil || d.calls.Load() != 1 {
		t.Fatalf("500: err %v after %d attempts (want 1)", err, d.calls.Load())
	}
}

func TestTimeout(t *testing.T) {
	f := newFake(t, mltest.Options{Modes: map[string]mltest.Behavior{"predict": mltest.Hang}})
	c := New(Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := c.Predict(context.Background(), Backend{Name: "m", URL: f.URL}, "1", lineCfg, []json.RawMessage{json.RawMessage(`{"id":1,"data":{},"predictions":[]}`)})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("hanging backend held the call %v", took)
	}
	e, ok := AsError(err)
	if !ok || !e.Timeout() || !strings.Contains(err.Error(), f.URL+"/predict") {
		t.Fatalf("want a timeout naming the URL, got %v", err)
	}
	// A shorter caller deadline wins over the client's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = c.Predict(ctx, Backend{Name: "m", URL: f.URL}, "1", lineCfg, []json.RawMessage{json.RawMessage(`{"id":1,"data":{},"predictions":[]}`)})
	if err == nil || time.Since(start) > 150*time.Millisecond {
		t.Errorf("caller deadline: %v after %v", err, time.Since(start))
	}
}

func TestVersionJSON(t *testing.T) {
	for in, want := range map[string]string{`"abc"`: "abc", `1605866645`: "1605866645", `null`: "", `1.5`: "1.5"} {
		var v Version
		if err := json.Unmarshal([]byte(in), &v); err != nil || string(v) != want {
			t.Errorf("%s → %q, %v; want %q", in, v, err, want)
		}
	}
	var v Version
	if err := json.Unmarshal([]byte(`{}`), &v); err == nil {
		t.Error("an object is not a version")
	}
	if tm, ok := ParseVersionTime("1605867072"); !ok || tm.Format(time.ANSIC) != "Fri Nov 20 10:11:12 2020" {
		t.Errorf("version time %v %v", tm, ok)
	}
}

func TestObject(t *testing.T) {
	o, err := ParseObject([]byte(` {"id": 1, "data": {"b": 1, "a": [1, 2]}, "predictions": [{"x":1}], "z": null} `))
	if err != nil {
		t.Fatal(err)
	}
	got := string(o.Set("predictions", json.RawMessage("[]")).Set("new", json.RawMessage(`"v"`)).Delete("z").Bytes())
	if want := `{"id":1,"data":{"b": 1, "a": [1, 2]},"predictions":[],"new":"v"}`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	for _, bad := range []string{``, `[]`, `{"a":}`, `{"a":1} x`, `{"a":1`, `"s"`} {
		if _, err := ParseObject([]byte(bad)); err == nil {
			t.Errorf("ParseObject(%q) should fail", bad)
		}
	}
	o, _ = ParseObject([]byte(`{"id":1,"data":{"t":"<b>"}}`))
	if got := string(o.Set("predictions", json.RawMessage("[]")).Bytes()); got != `{"id":1,"data":{"t":"<b>"},"predictions":[]}` {
		t.Errorf("no HTML escaping, predictions appended: %s", got)
	}
	if got := string(Object{{Key: "a\"<", Value: json.RawMessage("1")}}.Bytes()); got != `{"a\"<":1}` {
		t.Errorf("key quoting: %s", got)
	}
}

func TestPreparePrediction(t *testing.T) {
	allow := func(from, to, typ string) bool { return from == "sentiment" && to == "text" && typ == "choices" }
	raw := json.RawMessage(`{"result":[
		{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["A"]}},
		{"from_name":"nope","to_name":"text","type":"choices","value":{}},
		{"from_name":"sentiment","to_name":"text","type":"Choices","value":{}},
		{"from_id":"a","to_id":"b","type":"relation"},
		{"value":{}}
	],"score":0.3,"model_version":"7"}`)
	out, bad, err := PreparePrediction(raw, "m1", "2020-11-20T10:12:13.123456", allow)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 3 {
		t.Errorf("want 3 left-out items, got %v", bad)
	}
	var p struct {
		Result       []map[string]any `json:"result"`
		Score        float64          `json:"score"`
		ModelVersion string           `json:"model_version"`
		CreatedBy    string           `json:"created_by"`
		CreatedDate  string           `json:"created_date"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Result) != 2 || p.Score != 0.3 || p.ModelVersion != "7" || p.CreatedBy != "m1" || p.CreatedDate != "2020-11-20T10:12:13.123456" {
		t.Errorf("prepared: %s", out)
	}
	for _, bad := range []string{`[]`, `{"score":1}`, `{"result":{}}`, `{"result":null}`} {
		if _, _, err := PreparePrediction(json.RawMessage(bad), "m", "d", nil); err == nil {
			t.Errorf("%s should be refused", bad)
		}
	}
	if out, bad, err := PreparePrediction(json.RawMessage(`{"result":[{"x":1}]}`), "m", "d", nil); err != nil || len(bad) != 0 || !strings.Contains(string(out), `"created_by":"m"`) {
		t.Errorf("nil allow keeps everything: %s %v %v", out, bad, err)
	}
}
