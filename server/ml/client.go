// Package ml is the client side of the label-studio-ml protocol that Label
// Studio 0.8.1 speaks with machine-learning backends: GET /health,
// POST /setup, POST /predict, POST /train, GET /is_training,
// POST /job_status and POST /delete, with the JSON bodies of the 0.8.1
// wire format. A backend's name is sent as "project" in every call.
//
// The client knows no HTTP server and no store: it builds requests, bounds
// them in time, retries connection failures and turns every failure into an
// *Error that names the URL, the status and the start of the body.
package ml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/server/backoff"
)

// Defaults of Options.
const (
	// DefaultConnectTimeout bounds establishing a TCP (and TLS) connection.
	DefaultConnectTimeout = 3 * time.Second
	// DefaultTimeout bounds one call (/predict, /setup, ...) from start to
	// the end of the response body: the 100 s that 0.8.1 defines.
	DefaultTimeout = 100 * time.Second
	// DefaultTrainTimeout bounds one /train call. The reference SDK trains
	// synchronously when it runs without a job queue, so it is long.
	DefaultTrainTimeout = 12 * time.Hour
	// DefaultRetries is how many times a call is retried when the
	// connection cannot be established (0.8.1 retries twice).
	DefaultRetries = 2
	// DefaultMaxResponseBytes caps a response body.
	DefaultMaxResponseBytes = 64 << 20
	// DefaultMaxIdleConnsPerHost is the idle keep-alive pool per backend.
	DefaultMaxIdleConnsPerHost = 16
)

// UserAgent is the User-Agent header of every request, as 0.8.1 sends it.
const UserAgent = "label-studio/"

// bodyPreview is how much of a failing response body an *Error keeps.
const bodyPreview = 4096

// Options tune a Client. Zero values mean the defaults above.
type Options struct {
	ConnectTimeout      time.Duration
	Timeout             time.Duration
	TrainTimeout        time.Duration
	Retries             int
	NoRetries           bool
	MaxResponseBytes    int64
	MaxIdleConnsPerHost int
	// RetryDelay is the pause before the first retry; it doubles for the
	// next one. Zero means 100 ms.
	RetryDelay time.Duration
}

// Backend names an ML backend: its name (sent as "project") and base URL.
type Backend struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Client calls ML backends. It is safe for concurrent use.
type Client struct {
	hc   *http.Client
	opts Options
}

// New returns a client with the given options.
func New(o Options) *Client {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.TrainTimeout <= 0 {
		o.TrainTimeout = DefaultTrainTimeout
	}
	if o.Retries <= 0 {
		o.Retries = DefaultRetries
	}
	if o.NoRetries {
		o.Retries = 0
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 100 * time.Millisecond
	}
	tr := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   o.ConnectTimeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		MaxIdleConns:          4 * o.MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Client{hc: &http.Client{Transport: tr}, opts: o}
}

// Options returns the client's options with the defaults filled in.
func (c *Client) Options() Options { return c.opts }

// CloseIdleConnections closes the keep-alive connections not in use.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// JoinURL builds an endpoint URL as 0.8.1 does: the base gets a trailing
// "/" if missing and the endpoint is resolved against it as a relative
// reference ("http://h:9090" → "http://h:9090/predict", "http://h/ml/" →
// "http://h/ml/predict").
func JoinURL(base, endpoint string) (string, error) {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("ML backend URL %q: %w", base, err)
	}
	ref, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("ML endpoint %q: %w", endpoint, err)
	}
	return b.ResolveReference(ref).String(), nil
}

// Error is a failed call: the connection failed, the status was not 2xx,
// or the body was not JSON.
type Error struct {
	// Method and URL name the request.
	Method, URL string
	// Status is the HTTP status, 0 when no response arrived.
	Status int
	// Body is the start of the response body (up to 4 KiB).
	Body string
	// ContentType is the response's Content-Type.
	ContentType string
	// Err is the connection, timeout or JSON error, if any.
	Err error
}

// Error names the URL, the status and the start of the body.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.URL)
	b.WriteString(": ")
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d", e.Status)
		if e.Err != nil {
			b.WriteString(", ")
		}
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Status != 0 {
		body := strings.TrimSpace(e.Body)
		if len(body) > 300 {
			body = body[:300] + "…"
		}
		if body == "" {
			body = "(empty body)"
		}
		b.WriteString(": ")
		b.WriteString(body)
	}
	return b.String()
}

// Unwrap returns the underlying connection, timeout or JSON error.
func (e *Error) Unwrap() error { return e.Err }

// Message is the ML server's own error text, for people: the "detail" of
// its JSON error envelope, a JSON string body unquoted, the body text, or
// the connection, timeout or JSON error.
func (e *Error) Message() string {
	if e.Status == 0 || e.Status/100 == 2 {
		if e.Err != nil {
			return e.Err.Error()
		}
		return e.Error()
	}
	body := strings.TrimSpace(e.Body)
	var s string
	if json.Unmarshal([]byte(body), &s) == nil {
		return s
	}
	var env struct {
		Detail any `json:"detail"`
	}
	if json.Unmarshal([]byte(body), &env) == nil && env.Detail != nil {
		if d, ok := env.Detail.(string); ok {
			return d
		}
		if b, err := json.Marshal(env.Detail); err == nil {
			return string(b)
		}
	}
	if body == "" {
		return fmt.Sprintf("HTTP %d with an empty body", e.Status)
	}
	return body
}

// NotSupported reports whether the backend has no such route: a 404 that
// is not a JSON answer (the SDK answers an HTML page for /job_status,
// /delete and /validate).
func (e *Error) NotSupported() bool {
	return e.Status == http.StatusNotFound && !json.Valid([]byte(strings.TrimSpace(e.Body)))
}

// Timeout reports whether the call ran out of time.
func (e *Error) Timeout() bool {
	if errors.Is(e.Err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(e.Err, &ne) && ne.Timeout()
}

// AsError returns err as an *Error when it is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Message returns the text to show a person for an error of this package:
// (*Error).Message when it is one, else err.Error().
func Message(err error) string {
	if e, ok := AsError(err); ok {
		return e.Message()
	}
	return err.Error()
}

// Version is a model version: the protocol gives it as a string, some
// backends send a number; both read as text, null as "".
type Version string

// UnmarshalJSON accepts a string, a number or null.
func (v *Version) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*v = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("model version: %w", err)
		}
		*v = Version(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("model version must be a string or a number, got %s", b)
	}
	*v = Version(n.String())
	return nil
}

// request is one call to make.
type request struct {
	method   string
	base     string
	endpoint string
	query    url.Values
	// body is a small JSON body; stream, when set, writes a large one and
	// is called again for each attempt.
	body    []byte
	stream  func(w io.Writer) error
	timeout time.Duration
}

// do runs a request with the timeout and retries and decodes the JSON
// answer into out (which may be nil: the answer is still checked to be
// JSON).
func (c *Client) do(ctx context.Context, r request, out any) error {
	u, err := JoinURL(r.base, r.endpoint)
	if err != nil {
		return &Error{Method: r.method, URL: r.base, Err: err}
	}
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	timeout := r.timeout
	if timeout <= 0 {
		timeout = c.opts.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var connErr error
	return backoff.Do(ctx, c.opts.Retries+1, c.opts.RetryDelay, connectFailed, func() error {
		err := c.once(ctx, r, u, out)
		if err != nil && ctx.Err() != nil && connErr != nil {
			// Out of time while retrying: the refused connection is the news.
			return connErr
		}
		if connectFailed(err) {
			connErr = err
		}
		return err
	})
}

// connectFailed reports whether err means the connection could not be
// established (nothing was sent), which is worth a retry.
func connectFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func (c *Client) once(ctx context.Context, r request, u string, out any) error {
	fail := func(err error) error { return &Error{Method: r.method, URL: u, Err: err} }
	var body io.Reader
	var done chan struct{}
	switch {
	case r.stream != nil:
		pr, pw := io.Pipe()
		done = make(chan struct{})
		go func() {
			defer close(done)
			pw.CloseWithError(r.stream(pw))
		}()
		defer func() {
			pr.Close()
			<-done
		}()
		body = pr
	case r.body != nil:
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return fail(err)
	}
	defer resp.Body.Close()
	limit := c.opts.MaxResponseBytes
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	e := &Error{Method: r.method, URL: u, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type")}
	if len(raw) > bodyPreview {
		e.Body = string(raw[:bodyPreview])
	} else {
		e.Body = string(raw)
	}
	if err != nil {
		e.Err = fmt.Errorf("reading the response: %w", err)
		return e
	}
	if int64(len(raw)) > limit {
		e.Err = fmt.Errorf("response body is larger than %d bytes", limit)
		return e
	}
	if resp.StatusCode/100 != 2 {
		return e
	}
	if out == nil {
		if !json.Valid(raw) {
			e.Err = errors.New("response is not JSON")
			return e
		}
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		e.Err = fmt.Errorf("response is not the expected JSON: %w", err)
		return e
	}
	return nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode ML request: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func (c *Client) postJSON(ctx context.Context, base, endpoint string, in, out any) error {
	body, err := marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodPost, base: base, endpoint: endpoint, body: body}, out)
}

// Health is the answer of GET /health.
type Health struct {
	Status   string `json:"status"`
	ModelDir string `json:"model_dir"`
}

// Health asks GET <base>/health: the connection check.
func (c *Client) Health(ctx context.Context, base string) (Health, error) {
	var h Health
	err := c.do(ctx, request{method: http.MethodGet, base: base, endpoint: "health"}, &h)
	return h, err
}

// setupRequest is the body of POST /setup.
type setupRequest struct {
	Project string `json:"project"`
	Schema  string `json:"schema"`
}

// Setup sends POST /setup {"project", "schema"} and returns the model
// version the backend answers.
func (c *Client) Setup(ctx context.Context, b Backend, schema string) (string, error) {
	var out struct {
		ModelVersion Version `json:"model_version"`
	}
	err := c.postJSON(ctx, b.URL, "setup", setupRequest{Project: b.Name, Schema: schema}, &out)
	return string(out.ModelVersion), err
}

// PredictParams are the "params" of POST /predict.
type PredictParams struct {
	ForceLoad bool   `json:"force_load"`
	Login     string `json:"login"`
	Password  string `json:"password"`
}

// PredictRequest is the body of POST /predict.
type PredictRequest struct {
	Tasks        []json.RawMessage `json:"tasks"`
	ModelVersion string            `json:"model_version"`
	Project      string            `json:"project"`
	LabelConfig  string            `json:"label_config"`
	Params       PredictParams     `json:"params"`
}

// PredictResponse is the answer of POST /predict: one prediction object
// per task.
type PredictResponse struct {
	Results      []json.RawMessage `json:"results"`
	ModelVersion Version           `json:"model_version"`
}

// Predict sends POST /predict for tasks (each a task JSON object, with
// "predictions" already emptied by the caller).
func (c *Client) Predict(ctx context.Context, b Backend, modelVersion, labelConfig string, tasks []json.RawMessage) (PredictResponse, error) {
	var out PredictResponse
	req := PredictRequest{
		Tasks:        tasks,
		ModelVersion: modelVersion,
		Project:      b.Name,
		LabelConfig:  labelConfig,
		Params:       PredictParams{ForceLoad: true},
	}
	err := c.postJSON(ctx, b.URL, "predict", req, &out)
	return out, err
}

// Train sends POST /train. records writes the completions records, one
// JSON object per emit call, in the order to send (it is called again if
// the call is retried). The answer's job id is returned ("" when the
// backend trained synchronously and answered {}).
func (c *Client) Train(ctx context.Context, b Backend, labelConfig string, records func(emit func(record []byte) error) error) (string, error) {
	tail, err := marshal(struct {
		Project     string            `json:"project"`
		LabelConfig string            `json:"label_config"`
		Params      map[string]string `json:"params"`
	}{b.Name, labelConfig, map[string]string{"login": "", "password": ""}})
	if err != nil {
		return "", err
	}
	stream := func(w io.Writer) error {
		if _, err := io.WriteString(w, `{"completions":[`); err != nil {
			return err
		}
		n := 0
		err := records(func(rec []byte) error {
			if n > 0 {
				if _, err := w.Write([]byte{','}); err != nil {
					return err
				}
			}
			n++
			_, err := w.Write(rec)
			return err
		})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, "],"); err != nil {
			return err
		}
		_, err = w.Write(tail[1:])
		return err
	}
	var out struct {
		Job Version `json:"job"`
	}
	err = c.do(ctx, request{method: http.MethodPost, base: b.URL, endpoint: "train", stream: stream, timeout: c.opts.TrainTimeout}, &out)
	return string(out.Job), err
}

// TrainingStatus is the answer of GET /is_training.
type TrainingStatus struct {
	IsTraining   bool    `json:"is_training"`
	Backend      string  `json:"backend,omitempty"`
	ModelVersion Version `json:"model_version,omitempty"`
	JobID        Version `json:"job_id,omitempty"`
	// HasModelVersion tells whether the answer named a model version (the
	// SDK omits it while it has no model for the project).
	HasModelVersion bool `json:"-"`
}

// IsTraining asks GET /is_training?project=<name> (the name URL-encoded).
// An answer without "is_training" is an error.
func (c *Client) IsTraining(ctx context.Context, b Backend) (TrainingStatus, error) {
	var out struct {
		IsTraining   *bool    `json:"is_training"`
		Backend      string   `json:"backend"`
		ModelVersion *Version `json:"model_version"`
		JobID        Version  `json:"job_id"`
	}
	r := request{method: http.MethodGet, base: b.URL, endpoint: "is_training", query: url.Values{"project": {b.Name}}}
	if err := c.do(ctx, r, &out); err != nil {
		return TrainingStatus{}, err
	}
	st := TrainingStatus{Backend: out.Backend, JobID: out.JobID}
	if out.ModelVersion != nil {
		st.ModelVersion, st.HasModelVersion = *out.ModelVersion, true
	}
	if out.IsTraining == nil {
		u, _ := JoinURL(b.URL, "is_training")
		return st, &Error{Method: http.MethodGet, URL: u, Status: http.StatusOK, Err: errors.New(`the answer has no "is_training"`)}
	}
	st.IsTraining = *out.IsTraining
	return st, nil
}

// JobStatus asks POST /job_status {"job": id} and returns "job_status"
// ("queued", "started", "finished", "failed").
func (c *Client) JobStatus(ctx context.Context, b Backend, job string) (string, error) {
	var out struct {
		JobStatus string `json:"job_status"`
	}
	err := c.postJSON(ctx, b.URL, "job_status", map[string]string{"job": job}, &out)
	return out.JobStatus, err
}

// Delete sends POST /delete {"project": name}: the project's tasks are gone.
func (c *Client) Delete(ctx context.Context, b Backend) error {
	return c.postJSON(ctx, b.URL, "delete", map[string]string{"project": b.Name}, nil)
}

// ParseVersionTime reads an integer-like model version (Unix seconds) as a
// time; ok is false for other versions.
func ParseVersionTime(v string) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}
