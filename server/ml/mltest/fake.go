// Package mltest provides an in-process fake ML backend for tests: an
// httptest server that speaks the label-studio-ml protocol of Label Studio
// 0.8.1 (ml.md §8), checks every request it receives against the wire
// format, and can be told to hang, fail or answer garbage per endpoint.
package mltest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
)

// Behavior is how the fake answers one endpoint.
type Behavior string

// Behaviors.
const (
	// OK answers as the reference SDK does.
	OK Behavior = ""
	// Hang never answers (until the client gives up or the fake closes).
	Hang Behavior = "hang"
	// Fail answers 500 with the SDK's JSON error envelope.
	Fail Behavior = "500"
	// NotJSON answers 200 with an HTML page.
	NotJSON Behavior = "notjson"
	// NotFound answers 404 with an HTML page, as the SDK does for routes
	// it lacks (/job_status, /delete).
	NotFound Behavior = "404"
)

// Options configure a Fake. Change them with Update.
type Options struct {
	// Project is the backend name the fake expects as "project"; empty
	// accepts any non-empty string.
	Project string
	// LabelConfig is the line config expected as "schema" and
	// "label_config"; empty accepts any non-empty string.
	LabelConfig string
	// ModelVersion is what /setup and /is_training answer (default "1").
	ModelVersion string
	// Modes maps an endpoint ("health", "setup", "predict", "train",
	// "is_training", "job_status", "delete") to its behavior. job_status
	// and delete default to NotFound, as in the SDK.
	Modes map[string]Behavior
	// Result builds the prediction of a task from its JSON; nil answers a
	// "sentiment"/"text" choices result with score 0.5.
	Result func(task map[string]json.RawMessage) json.RawMessage
	// PredictDelay is how long /predict works on a request.
	PredictDelay time.Duration
	// TrainDelay is how long /train works before answering.
	TrainDelay time.Duration
	// Training is the "is_training" answer.
	Training bool
	// Job, when set, is answered by /train as {"job": Job}; else {}.
	Job string
	// JobStatus is the answer of /job_status when its mode is OK.
	JobStatus string
}

// Fake is a running fake ML backend.
type Fake struct {
	*httptest.Server

	release chan struct{}
	once    sync.Once

	mu          sync.Mutex
	opts        Options
	calls       map[string]int
	problems    []string
	inFlight    int
	maxInFlight int
	predicted   []json.RawMessage
	trainBodies []TrainRequest
}

// TrainRequest is a /train body as received.
type TrainRequest struct {
	Completions []json.RawMessage `json:"completions"`
	Project     string            `json:"project"`
	LabelConfig string            `json:"label_config"`
	Params      struct {
		Login    string `json:"login"`
		Password string `json:"password"`
	} `json:"params"`
}

// New starts a fake.
func New(o Options) *Fake {
	f := &Fake{release: make(chan struct{}), opts: o, calls: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close releases hanging requests and stops the server.
func (f *Fake) Close() {
	f.once.Do(func() { close(f.release) })
	f.Server.Close()
}

// Update changes the options under the fake's lock.
func (f *Fake) Update(fn func(o *Options)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.opts)
}

// Calls returns how many requests an endpoint received.
func (f *Fake) Calls(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[endpoint]
}

// MaxInFlight is the largest number of /predict requests seen at once.
func (f *Fake) MaxInFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxInFlight
}

// Problems lists every protocol violation the fake saw.
func (f *Fake) Problems() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.problems...)
}

// Predicted returns the tasks received by /predict, in arrival order.
func (f *Fake) Predicted() []json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]json.RawMessage(nil), f.predicted...)
}

// TrainRequests returns the /train bodies received.
func (f *Fake) TrainRequests() []TrainRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]TrainRequest(nil), f.trainBodies...)
}

// DownURL returns the URL of a port nothing listens on.
func DownURL() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "http://127.0.0.1:1"
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func (f *Fake) problem(format string, args ...any) {
	f.mu.Lock()
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

func (f *Fake) snapshot(endpoint string) (Options, Behavior) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[endpoint]++
	o := f.opts
	mode, ok := o.Modes[endpoint]
	if !ok && (endpoint == "job_status" || endpoint == "delete") {
		mode = NotFound
	}
	if o.ModelVersion == "" {
		o.ModelVersion = "1"
	}
	return o, mode
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	endpoint := strings.TrimPrefix(r.URL.Path, "/")
	endpoint = endpoint[strings.LastIndex(endpoint, "/")+1:]
	o, mode := f.snapshot(endpoint)
	if ua := r.Header.Get("User-Agent"); ua != "label-studio/" {
		f.problem("%s: User-Agent %q", endpoint, ua)
	}
	method := map[string]string{"health": "GET", "is_training": "GET", "metrics": "GET"}[endpoint]
	if method == "" {
		method = "POST"
	}
	if r.Method != method {
		f.problem("%s: method %s, want %s", endpoint, r.Method, method)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if method == "POST" && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		f.problem("%s: Content-Type %q", endpoint, r.Header.Get("Content-Type"))
	}
	switch mode {
	case Hang:
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return
	case Fail:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"status": 500, "detail": "boom in %s", "request": {}, "result": {"traceback": "Traceback (most recent call last): ..."}}`, endpoint)
		return
	case NotJSON:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>I am not an ML backend</body></html>")
		return
	case NotFound:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<!DOCTYPE HTML><title>404 Not Found</title><h1>Not Found</h1>")
		return
	}
	switch endpoint {
	case "health":
		writeJSON(w, 200, map[string]string{"status": "UP", "model_dir": "/srv/models/my_backend"})
	case "setup":
		var req struct {
			Project string `json:"project"`
			Schema  string `json:"schema"`
		}
		if f.decode(endpoint, body, &req) {
			f.checkProject(endpoint, o, req.Project)
			f.checkConfig(endpoint, "schema", o, req.Schema)
		}
		writeJSON(w, 200, map[string]string{"model_version": o.ModelVersion})
	case "predict":
		f.predict(w, o, body)
	case "train":
		f.train(w, o, body)
	case "is_training":
		f.checkProject(endpoint, o, r.URL.Query().Get("project"))
		writeJSON(w, 200, map[string]any{"is_training": o.Training, "backend": "none", "model_version": o.ModelVersion})
	case "job_status":
		var req struct {
			Job string `json:"job"`
		}
		if f.decode(endpoint, body, &req) && req.Job == "" {
			f.problem("job_status: empty job")
		}
		writeJSON(w, 200, map[string]string{"job_status": o.JobStatus})
	case "delete":
		var req struct {
			Project string `json:"project"`
		}
		if f.decode(endpoint, body, &req) {
			f.checkProject(endpoint, o, req.Project)
		}
		writeJSON(w, 200, map[string]string{})
	case "metrics":
		writeJSON(w, 200, map[string]string{})
	default:
		f.problem("unknown endpoint %q", r.URL.Path)
		http.NotFound(w, r)
	}
}

func (f *Fake) predict(w http.ResponseWriter, o Options, body []byte) {
	f.mu.Lock()
	f.inFlight++
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	var req struct {
		Tasks        []map[string]json.RawMessage `json:"tasks"`
		ModelVersion string                       `json:"model_version"`
		Project      string                       `json:"project"`
		LabelConfig  string                       `json:"label_config"`
		Params       struct {
			ForceLoad bool   `json:"force_load"`
			Login     string `json:"login"`
			Password  string `json:"password"`
		} `json:"params"`
	}
	if !f.decode("predict", body, &req) {
		writeJSON(w, 500, map[string]any{"status": 500, "detail": "bad request"})
		return
	}
	f.checkProject("predict", o, req.Project)
	f.checkConfig("predict", "label_config", o, req.LabelConfig)
	if req.ModelVersion != o.ModelVersion {
		f.problem("predict: model_version %q, want %q (from /setup)", req.ModelVersion, o.ModelVersion)
	}
	if !req.Params.ForceLoad || req.Params.Login != "" || req.Params.Password != "" {
		f.problem("predict: params %+v", req.Params)
	}
	if len(req.Tasks) == 0 {
		f.problem("predict: no tasks")
	}
	results := make([]json.RawMessage, 0, len(req.Tasks))
	for _, tk := range req.Tasks {
		if string(tk["predictions"]) != "[]" {
			f.problem("predict: task predictions %s, want []", tk["predictions"])
		}
		if d := bytes.TrimSpace(tk["data"]); len(d) == 0 || d[0] != '{' {
			f.problem("predict: task data %s is not an object", tk["data"])
		}
		raw, _ := json.Marshal(tk)
		f.mu.Lock()
		f.predicted = append(f.predicted, raw)
		f.mu.Unlock()
		if o.Result != nil {
			results = append(results, o.Result(tk))
		} else {
			results = append(results, json.RawMessage(`{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}],"score":0.5}`))
		}
	}
	if o.PredictDelay > 0 {
		select {
		case <-time.After(o.PredictDelay):
		case <-f.release:
		}
	}
	writeJSON(w, 200, map[string]any{"results": results, "model_version": o.ModelVersion})
}

func (f *Fake) train(w http.ResponseWriter, o Options, body []byte) {
	var req TrainRequest
	if !f.decode("train", body, &req) {
		writeJSON(w, 500, map[string]any{"status": 500, "detail": "bad request"})
		return
	}
	f.checkProject("train", o, req.Project)
	f.checkConfig("train", "label_config", o, req.LabelConfig)
	if req.Params.Login != "" || req.Params.Password != "" {
		f.problem("train: params %+v", req.Params)
	}
	last := int64(-1)
	for _, rec := range req.Completions {
		var r struct {
			ID          *int64            `json:"id"`
			Data        json.RawMessage   `json:"data"`
			Completions []json.RawMessage `json:"completions"`
			Predictions json.RawMessage   `json:"predictions"`
		}
		if err := json.Unmarshal(rec, &r); err != nil || r.ID == nil {
			f.problem("train: bad completions record %s", rec)
			continue
		}
		if *r.ID <= last {
			f.problem("train: record %d after %d: not by ascending id", *r.ID, last)
		}
		last = *r.ID
		if len(r.Data) == 0 || len(r.Completions) == 0 {
			f.problem("train: record %d lacks data or completions", *r.ID)
		}
		if r.Predictions != nil {
			f.problem("train: record %d carries predictions", *r.ID)
		}
	}
	f.mu.Lock()
	f.trainBodies = append(f.trainBodies, req)
	f.mu.Unlock()
	if len(req.Completions) == 0 {
		writeJSON(w, 400, "No completions found.")
		return
	}
	if o.TrainDelay > 0 {
		select {
		case <-time.After(o.TrainDelay):
		case <-f.release:
		}
	}
	if o.Job != "" {
		writeJSON(w, 201, map[string]string{"job": o.Job})
		return
	}
	writeJSON(w, 201, map[string]string{})
}

// decode reads a body strictly: unknown keys are protocol violations.
func (f *Fake) decode(endpoint string, body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		f.problem("%s: body %.200s: %v", endpoint, body, err)
		return false
	}
	return true
}

func (f *Fake) checkProject(endpoint string, o Options, got string) {
	if got == "" || (o.Project != "" && got != o.Project) {
		f.problem("%s: project %q, want %q", endpoint, got, o.Project)
	}
}

func (f *Fake) checkConfig(endpoint, key string, o Options, got string) {
	if got == "" || (o.LabelConfig != "" && got != o.LabelConfig) {
		f.problem("%s: %s %.80q, want %.80q", endpoint, key, got, o.LabelConfig)
	}
	if strings.ContainsAny(got, "\r\n") {
		f.problem("%s: %s is not the line config", endpoint, key)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
