package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/server/ml"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// This file connects projects to ML backends (ml.md): the backend list
// (PATCH /api/project, /api/models), live predictions for served tasks,
// predictions for all tasks, training and the model status. The protocol
// itself is package ml.

// Defaults of MLOptions not inherited from package ml.
const (
	// DefaultMLLiveTimeout bounds all ML work of one interactive request
	// (a served task, mode=data, the connection check, a status probe).
	DefaultMLLiveTimeout = 5 * time.Second
	// DefaultMLConcurrency is how many /predict requests mode=all_tasks
	// keeps in flight.
	DefaultMLConcurrency = 4
	// mlBreakerFailures is how many consecutive failures of one backend
	// make a mode=all_tasks run stop asking it.
	mlBreakerFailures = 10
	// mlMaxJobErrors is how many distinct error messages a run keeps.
	mlMaxJobErrors = 20
)

// MLOptions tune the calls to ML backends. Zero values mean the defaults.
type MLOptions struct {
	// ConnectTimeout bounds establishing a connection (ml.DefaultConnectTimeout, 3 s).
	ConnectTimeout time.Duration
	// Timeout bounds one call made by mode=all_tasks and /setup before it
	// (ml.DefaultTimeout, 100 s).
	Timeout time.Duration
	// TrainTimeout bounds one /train call (ml.DefaultTrainTimeout, 12 h).
	TrainTimeout time.Duration
	// LiveTimeout bounds the whole ML work of an interactive request:
	// live predictions of /api/project/next, /api/tasks/<id> and
	// mode=data, the connection check of PATCH /api/project, each probe of
	// /api/models/status and how long POST /api/models/train waits for the
	// backends' answer before it reports "Training started"
	// (DefaultMLLiveTimeout, 5 s).
	LiveTimeout time.Duration
	// Concurrency caps the /predict requests in flight during
	// mode=all_tasks (DefaultMLConcurrency, 4).
	Concurrency int
}

func (o MLOptions) withDefaults() MLOptions {
	if o.LiveTimeout <= 0 {
		o.LiveTimeout = DefaultMLLiveTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultMLConcurrency
	}
	if o.Timeout <= 0 {
		o.Timeout = ml.DefaultTimeout
	}
	return o
}

// mlService is a server's ML state: the protocol client and what 0.8.1
// keeps in memory per backend (model version, train job), plus the
// latest mode=all_tasks run of each project.
type mlService struct {
	client *ml.Client
	opts   MLOptions
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	backends map[ml.Backend]*backendState
	// jobs are the latest mode=all_tasks run of each project.
	jobs map[string]*predictJob
}

// backendState is what the server remembers about one backend.
type backendState struct {
	modelVersion string
	trainJob     string
	training     bool
	trainStarted time.Time
	lastError    string
	lastErrorAt  time.Time
}

// mlsvc returns the server's ML state, creating it on first use.
func (s *Server) mlsvc() *mlService {
	s.mlOnce.Do(func() {
		opts := s.opts.ML.withDefaults()
		s.mlSvc = &mlService{
			client: ml.New(ml.Options{
				ConnectTimeout:      opts.ConnectTimeout,
				Timeout:             opts.Timeout,
				TrainTimeout:        opts.TrainTimeout,
				MaxIdleConnsPerHost: max(opts.Concurrency, ml.DefaultMaxIdleConnsPerHost),
			}),
			opts:     opts,
			log:      s.log,
			now:      s.opts.Now,
			backends: map[ml.Backend]*backendState{},
			jobs:     map[string]*predictJob{},
		}
	})
	return s.mlSvc
}

// modelRoutes registers the ML endpoints (api.md §4.12–4.14, §6).
func (s *Server) modelRoutes() {
	s.mlsvc()
	a := s.app
	a.Get("/api/models", s.listModels)
	a.Delete("/api/models", s.removeModel)
	a.Get("/api/models/status", s.modelsStatus)
	a.Post("/api/models/train", s.trainModels)
	a.Get("/api/models/predictions", s.predictions)
	a.Post("/api/models/predictions", s.predictions)
	a.Get("/api/models/predictions/status", s.predictionsStatus)
	// Deprecated aliases of 0.8.1.
	a.Post("/api/remove-ml-backend", s.deprecated("DELETE /api/models", s.removeModel))
	a.Post("/api/train", s.deprecated("POST /api/models/train", s.trainModels))
	a.Post("/predict", s.deprecated("POST /api/models/predictions?mode=data", s.predictData))
}

// deprecated wraps an alias handler with the deprecation warning of
// api.md §6.
func (s *Server) deprecated(instead string, h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		s.log.Warn("deprecated endpoint", "path", c.Path(), "use", instead)
		return h(c)
	}
}

func toML(b store.MLBackend) ml.Backend { return ml.Backend{Name: b.Name, URL: b.URL} }

func (m *mlService) state(b ml.Backend) *backendState {
	st, ok := m.backends[b]
	if !ok {
		st = &backendState{}
		m.backends[b] = st
	}
	return st
}

func (m *mlService) setVersion(b ml.Backend, v string) {
	m.mu.Lock()
	m.state(b).modelVersion = v
	m.mu.Unlock()
}

// noteError remembers a backend's latest failure for the status page.
func (m *mlService) noteError(b ml.Backend, err error) {
	m.mu.Lock()
	st := m.state(b)
	st.lastError = ml.Message(err)
	st.lastErrorAt = m.now()
	m.mu.Unlock()
}

// ParseMLBackend reads "url" or "name=url" into a backend record (ml.md
// §1): the name is split at the first "=" when the text contains "=http";
// without one the name is the last path component of the project name
// followed by 4 random hex digits.
func ParseMLBackend(project, spec string) (store.MLBackend, error) {
	spec = strings.TrimSpace(spec)
	name, u := "", spec
	if strings.Contains(spec, "=http") {
		name, u, _ = strings.Cut(spec, "=")
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme == "" || parsed.Host == "" {
		return store.MLBackend{}, fmt.Errorf("Specified string %q doesn't look like URL.", u)
	}
	if name == "" {
		var b [2]byte
		if _, err := rand.Read(b[:]); err != nil {
			return store.MLBackend{}, fmt.Errorf("ML backend name: %w", err)
		}
		name = fmt.Sprintf("%s%x", path.Base(project), b)
	}
	return store.MLBackend{Name: name, URL: u}, nil
}

// connectMLBackend handles PATCH /api/project {"ml_backend": ...}: the
// backend must answer GET /health, then it is appended to the settings.
func (s *Server) connectMLBackend(c *fiber.Ctx, raw json.RawMessage) error {
	var spec string
	if err := json.Unmarshal(raw, &spec); err != nil {
		return envelopeError(fiber.StatusBadRequest, "ml_backend must be a string: a URL or name=URL")
	}
	name := s.projectName(c)
	b, err := ParseMLBackend(name, spec)
	if err != nil {
		return envelopeError(fiber.StatusBadRequest, err.Error())
	}
	m := s.mlsvc()
	ctx, cancel := context.WithTimeout(context.Background(), m.opts.LiveTimeout)
	defer cancel()
	if _, err := m.client.Health(ctx, b.URL); err != nil {
		s.log.Info("ML backend is not connected", "url", b.URL, "err", err)
		return envelopeError(fiber.StatusBadRequest,
			fmt.Sprintf("ML backend with URL: %q is not connected. (%s)", b.URL, err))
	}
	_, err = s.st.UpdateSettings(name, func(st *store.Settings) error {
		st.MLBackends = append(st.MLBackends, b)
		return nil
	})
	if err != nil {
		return fmt.Errorf("save ML backend: %w", err)
	}
	s.log.Info("ML backend connected", "name", b.Name, "url", b.URL)
	return nil
}

// listModels: GET /api/models.
func (s *Server) listModels(c *fiber.Ctx) error {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return err
	}
	names := make([]string, 0, len(p.Settings.MLBackends))
	for _, b := range p.Settings.MLBackends {
		names = append(names, b.Name)
	}
	return c.JSON(fiber.Map{"models": names})
}

// errNoSuchBackend aborts a removal of an unknown backend.
var errNoSuchBackend = errors.New("no such ML backend")

// removeModel: DELETE /api/models {"name": ...} (and the deprecated
// POST /api/remove-ml-backend).
func (s *Server) removeModel(c *fiber.Ctx) error {
	var body struct {
		Name *string `json:"name"`
	}
	if err := bodyJSON(c, &body); err != nil {
		return err
	}
	if body.Name == nil {
		return envelopeError(fiber.StatusBadRequest, `"name" is required: {"name": "<ML backend name>"}`)
	}
	var removed store.MLBackend
	_, err := s.st.UpdateSettings(s.projectName(c), func(st *store.Settings) error {
		for i, b := range st.MLBackends {
			if b.Name == *body.Name {
				removed = b
				st.MLBackends = append(st.MLBackends[:i:i], st.MLBackends[i+1:]...)
				return nil
			}
		}
		return errNoSuchBackend
	})
	if errors.Is(err, errNoSuchBackend) {
		return envelopeError(fiber.StatusNotFound, fmt.Sprintf("Can't remove ML backend with name %q: not found.", *body.Name))
	}
	if err != nil {
		return fmt.Errorf("remove ML backend: %w", err)
	}
	m := s.mlsvc()
	m.mu.Lock()
	delete(m.backends, toML(removed))
	m.mu.Unlock()
	s.log.Info("ML backend removed", "name", removed.Name, "url", removed.URL)
	return c.SendStatus(fiber.StatusNoContent)
}

// noMLBackend is the answer of the ML endpoints when none is configured.
func noMLBackend() error {
	return jsonError(fiber.StatusBadRequest, "No ML backend", "No ML backend")
}

// allowFunc builds the check of predicted results against the config:
// (control name, one of its toName, lower-cased control type). A config
// that does not parse checks nothing.
func allowFunc(cfg *labelconfig.Config) ml.AllowFunc {
	if cfg == nil {
		return nil
	}
	allowed := map[[3]string]bool{}
	for _, ctl := range cfg.Controls() {
		for _, to := range ctl.ToName {
			allowed[[3]string{ctl.Name, strings.TrimSpace(to), strings.ToLower(ctl.Type)}] = true
		}
	}
	return func(from, to, typ string) bool { return allowed[[3]string{from, to, typ}] }
}

// createdDate formats a prediction time as 0.8.1 does: local ISO-8601
// without zone, with microseconds.
func createdDate(t time.Time) string { return t.Local().Format("2006-01-02T15:04:05.000000") }

// liveReport counts what live predictions of one task did.
type liveReport struct {
	answered, failed, invalid int
}

// errNotTrained is a 404 from /predict: the model is not trained yet.
var errNotTrained = errors.New("model is not trained yet")

// askOne runs the live sequence of ml.md §4.2 with one backend: health,
// setup, predict. It returns the backend's prediction for the task.
func (m *mlService) askOne(ctx context.Context, b ml.Backend, lineCfg string, task json.RawMessage) (json.RawMessage, error) {
	if _, err := m.client.Health(ctx, b.URL); err != nil {
		return nil, fmt.Errorf("not connected: %w", err)
	}
	v, err := m.client.Setup(ctx, b, lineCfg)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	m.setVersion(b, v)
	resp, err := m.client.Predict(ctx, b, v, lineCfg, []json.RawMessage{task})
	if err != nil {
		if e, ok := ml.AsError(err); ok && e.Status == fiber.StatusNotFound {
			return nil, fmt.Errorf("%w: %w", errNotTrained, err)
		}
		return nil, fmt.Errorf("predict: %w", err)
	}
	if len(resp.Results) == 0 {
		return nil, errors.New("predict: the answer holds no prediction")
	}
	return resp.Results[0], nil
}

// predictLive asks every backend of the project, concurrently and within
// ctx, for a prediction of task (a JSON object as it is about to be
// served) and returns the task with "predictions" replaced by the answers
// in config order. When no backend answers the task is returned as it
// was, stored predictions included (ml.md §4.3). Errors are logged only.
func (s *Server) predictLive(ctx context.Context, p *store.Project, cfg *labelconfig.Config, task []byte) ([]byte, liveReport) {
	var rep liveReport
	obj, err := ml.ParseObject(task)
	if err != nil {
		s.log.Warn("live predictions: task is not a JSON object", "err", err)
		return task, rep
	}
	req := obj.Set("predictions", json.RawMessage("[]")).Bytes()
	m := s.mlsvc()
	lineCfg := labelconfig.LineConfig(p.LabelConfig)
	allow := allowFunc(cfg)
	backends := p.Settings.MLBackends
	preds := make([]json.RawMessage, len(backends))
	invalid := make([]int, len(backends))
	failed := make([]bool, len(backends))
	var wg sync.WaitGroup
	for i, sb := range backends {
		b := toML(sb)
		wg.Go(func() {
			raw, err := m.askOne(ctx, b, lineCfg, req)
			if err == nil {
				var bad []ml.Invalid
				raw, bad, err = ml.PreparePrediction(raw, b.Name, createdDate(m.now()), allow)
				invalid[i] = len(bad)
				for _, inv := range bad {
					s.log.Warn("ML prediction result left out", "backend", b.Name, "result", inv.String())
				}
			}
			if err != nil {
				failed[i] = true
				m.noteError(b, err)
				level := slog.LevelWarn
				if errors.Is(err, errNotTrained) {
					level = slog.LevelInfo
				}
				s.log.Log(ctx, level, "live prediction failed", "backend", b.Name, "url", b.URL, "err", err)
				return
			}
			preds[i] = raw
		})
	}
	wg.Wait()
	var got []json.RawMessage
	for i := range backends {
		rep.invalid += invalid[i]
		if failed[i] {
			rep.failed++
		}
		if preds[i] != nil {
			got = append(got, preds[i])
		}
	}
	rep.answered = len(got)
	if len(got) == 0 {
		return task, rep
	}
	return obj.Set("predictions", ml.RawArray(got)).Bytes(), rep
}

// withLivePredictions replaces a served task's predictions by live ones
// when the project has ML backends (GET /api/project/next and
// GET /api/tasks/<id>). It never fails and never takes longer than the
// live timeout; the count of left-out results goes to the
// X-ML-Invalid-Results header.
func (s *Server) withLivePredictions(c *fiber.Ctx, body []byte) []byte {
	p, cfg, err := s.project(c)
	if err != nil || len(p.Settings.MLBackends) == 0 {
		return body
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.mlsvc().opts.LiveTimeout)
	defer cancel()
	out, rep := s.predictLive(ctx, p, cfg, body)
	if rep.invalid > 0 {
		c.Set("X-ML-Invalid-Results", strconv.Itoa(rep.invalid))
	}
	return out
}

// predictions: GET|POST /api/models/predictions?mode=data|all_tasks.
func (s *Server) predictions(c *fiber.Ctx) error {
	p, _, err := s.project(c)
	if err != nil {
		return err
	}
	if len(p.Settings.MLBackends) == 0 {
		return noMLBackend()
	}
	switch mode := formOrQuery(c, "mode"); mode {
	case "", "data":
		return s.predictData(c)
	case "all_tasks":
		return s.predictAllTasks(c)
	default:
		return detailError(fiber.StatusUnprocessableEntity, "unknown mode")
	}
}

// predictData: mode=data (and the deprecated POST /predict): predictions
// for the posted task, not stored.
func (s *Server) predictData(c *fiber.Ctx) error {
	p, cfg, err := s.project(c)
	if err != nil {
		return err
	}
	if len(p.Settings.MLBackends) == 0 {
		return noMLBackend()
	}
	body, err := ml.ParseObject(c.Body())
	if err != nil {
		return detailError(fiber.StatusUnprocessableEntity, "no task data found in request json")
	}
	if _, ok := body.Get("data"); !ok {
		body = ml.Object{{Key: "data", Value: body.Bytes()}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.mlsvc().opts.LiveTimeout)
	defer cancel()
	out, rep := s.predictLive(ctx, p, cfg, body.Bytes())
	if rep.invalid > 0 {
		c.Set("X-ML-Invalid-Results", strconv.Itoa(rep.invalid))
	}
	return sendRawJSON(c, fiber.StatusOK, out)
}

// predictJob is one mode=all_tasks run.
type predictJob struct {
	backends []string
	total    int64
	started  time.Time
	done     chan struct{}

	processed, predicted, unchanged atomic.Int64
	invalidResults, backendErrors   atomic.Int64
	storeErrors, lastDecile         atomic.Int64
	mu                              sync.Mutex
	state                           string
	errors                          []string
	finished                        time.Time
}

// predictProgress is the JSON view of a run.
type predictProgress struct {
	// State is "preparing", "running", "done" or "failed".
	State    string   `json:"state"`
	Backends []string `json:"backends"`
	// Total is the number of tasks when the run started.
	Total int64 `json:"total"`
	// Processed tasks so far; Predicted got new predictions stored;
	// Unchanged kept theirs because no backend answered.
	Processed int64 `json:"processed"`
	Predicted int64 `json:"predicted"`
	Unchanged int64 `json:"unchanged"`
	// InvalidResults counts result items left out because the config has
	// no such control; BackendErrors failed /predict calls; StoreErrors
	// tasks whose predictions could not be saved.
	InvalidResults int64    `json:"invalid_results"`
	BackendErrors  int64    `json:"backend_errors"`
	StoreErrors    int64    `json:"store_errors"`
	Errors         []string `json:"errors"`
	StartedAt      string   `json:"started_at"`
	FinishedAt     string   `json:"finished_at,omitempty"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
	TasksPerSecond float64  `json:"tasks_per_second"`
}

func (j *predictJob) snapshot(now time.Time) predictProgress {
	j.mu.Lock()
	defer j.mu.Unlock()
	end := now
	if !j.finished.IsZero() {
		end = j.finished
	}
	elapsed := end.Sub(j.started).Seconds()
	p := predictProgress{
		State:          j.state,
		Backends:       j.backends,
		Total:          j.total,
		Processed:      j.processed.Load(),
		Predicted:      j.predicted.Load(),
		Unchanged:      j.unchanged.Load(),
		InvalidResults: j.invalidResults.Load(),
		BackendErrors:  j.backendErrors.Load(),
		StoreErrors:    j.storeErrors.Load(),
		Errors:         append([]string{}, j.errors...),
		StartedAt:      j.started.Format(time.RFC3339),
		ElapsedSeconds: elapsed,
	}
	if !j.finished.IsZero() {
		p.FinishedAt = j.finished.Format(time.RFC3339)
	}
	if elapsed > 0 {
		p.TasksPerSecond = float64(p.Processed) / elapsed
	}
	return p
}

func (j *predictJob) addError(msg string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.errors) >= mlMaxJobErrors {
		return
	}
	for _, e := range j.errors {
		if e == msg {
			return
		}
	}
	j.errors = append(j.errors, msg)
}

func (j *predictJob) finish(state string, now time.Time) {
	j.mu.Lock()
	j.state = state
	j.finished = now
	j.mu.Unlock()
	close(j.done)
}

func (j *predictJob) running() bool {
	select {
	case <-j.done:
		return false
	default:
		return true
	}
}

// readyBackend is a backend that passed health and setup for a run.
type readyBackend struct {
	b       ml.Backend
	version string
	fails   atomic.Int32
	off     atomic.Bool
}

// predictAllTasks: mode=all_tasks. Every task is sent to every connected
// backend by a pool of MLOptions.Concurrency workers; each task's
// predictions by an answering backend replace that backend's previous
// ones and are stored. The answer waits for the end unless async=1 is
// given (202, then poll GET /api/models/predictions/status).
func (s *Server) predictAllTasks(c *fiber.Ctx) error {
	p, cfg, err := s.project(c)
	if err != nil {
		return err
	}
	m := s.mlsvc()
	now := m.now()
	job := &predictJob{total: p.Counters.Tasks, started: now, done: make(chan struct{}), state: "preparing"}
	m.mu.Lock()
	if old := m.jobs[p.Name]; old != nil && old.running() {
		pr := old.snapshot(now)
		m.mu.Unlock()
		return envelopeError(fiber.StatusConflict, fmt.Sprintf(
			"Predictions for all tasks are already running (%d of %d tasks done): see GET /api/models/predictions/status", pr.Processed, pr.Total))
	}
	m.jobs[p.Name] = job
	m.mu.Unlock()

	lineCfg := labelconfig.LineConfig(p.LabelConfig)
	ready := s.readyBackends(m, p.Settings.MLBackends, lineCfg, job)
	if len(ready) == 0 {
		job.finish("failed", m.now())
		return jsonError(fiber.StatusBadRequest,
			"Predictions are not started: seems that you don't have any ML backend connected",
			"no ML backend connected")
	}
	job.mu.Lock()
	for _, rb := range ready {
		job.backends = append(job.backends, rb.b.Name)
	}
	job.state = "running"
	job.mu.Unlock()
	s.log.Info("ML predictions for all tasks started", "tasks", job.total, "backends", job.backends, "concurrency", m.opts.Concurrency)
	go s.runAllTasks(m, p, allowFunc(cfg), lineCfg, ready, job)
	if async := c.Query("async"); async != "" && async != "0" && async != "false" {
		return c.Status(fiber.StatusAccepted).JSON(job.snapshot(m.now()))
	}
	<-job.done
	pr := job.snapshot(m.now())
	if pr.State != "done" {
		return envelopeError(fiber.StatusInternalServerError, "predictions failed: "+strings.Join(pr.Errors, "; "))
	}
	return c.JSON(struct {
		Details string `json:"details"`
		predictProgress
	}{"predictions are ready", pr})
}

// readyBackends checks the backends for a run, concurrently: health (live
// timeout) and setup (call timeout). Those that fail are left out.
func (s *Server) readyBackends(m *mlService, backends []store.MLBackend, lineCfg string, job *predictJob) []*readyBackend {
	out := make([]*readyBackend, len(backends))
	var wg sync.WaitGroup
	for i, sb := range backends {
		b := toML(sb)
		wg.Go(func() {
			hctx, cancel := context.WithTimeout(context.Background(), m.opts.LiveTimeout)
			_, err := m.client.Health(hctx, b.URL)
			cancel()
			if err != nil {
				err = fmt.Errorf("not connected: %w", err)
			} else {
				var v string
				v, err = m.client.Setup(context.Background(), b, lineCfg)
				if err == nil {
					m.setVersion(b, v)
					out[i] = &readyBackend{b: b, version: v}
					return
				}
				err = fmt.Errorf("setup: %w", err)
			}
			m.noteError(b, err)
			job.addError(b.Name + ": " + err.Error())
			s.log.Warn("ML backend left out of predictions for all tasks", "backend", b.Name, "url", b.URL, "err", err)
		})
	}
	wg.Wait()
	var ready []*readyBackend
	for _, rb := range out {
		if rb != nil {
			ready = append(ready, rb)
		}
	}
	return ready
}

// runAllTasks is the worker pool of a mode=all_tasks run.
func (s *Server) runAllTasks(m *mlService, p *store.Project, allow ml.AllowFunc, lineCfg string, ready []*readyBackend, job *predictJob) {
	tasks := make(chan store.Task, 2*m.opts.Concurrency)
	var wg sync.WaitGroup
	for range m.opts.Concurrency {
		wg.Go(func() {
			for tk := range tasks {
				s.predictStored(m, p.Name, allow, lineCfg, ready, job, tk)
			}
		})
	}
	err := s.st.EachTask(p.Name, false, func(tk store.Task) error {
		tasks <- tk
		return nil
	})
	close(tasks)
	wg.Wait()
	state := "done"
	if err != nil {
		state = "failed"
		job.addError("reading tasks: " + err.Error())
	}
	job.finish(state, m.now())
	pr := job.snapshot(m.now())
	s.log.Info("ML predictions for all tasks finished", "state", pr.State, "tasks", pr.Processed,
		"predicted", pr.Predicted, "unchanged", pr.Unchanged, "invalid_results", pr.InvalidResults,
		"backend_errors", pr.BackendErrors, "store_errors", pr.StoreErrors,
		"seconds", fmt.Sprintf("%.1f", pr.ElapsedSeconds), "tasks_per_second", fmt.Sprintf("%.0f", pr.TasksPerSecond))
}

// predictStored predicts one task with every ready backend and stores the
// result: the answering backends' previous predictions are replaced, the
// other predictions stay.
func (s *Server) predictStored(m *mlService, project string, allow ml.AllowFunc, lineCfg string, ready []*readyBackend, job *predictJob, tk store.Task) {
	defer s.progress(m, job)
	obj, err := ml.ParseObject(tk.Raw)
	if err != nil {
		job.storeErrors.Add(1)
		job.addError(fmt.Sprintf("task %d: %v", tk.ID, err))
		return
	}
	req := obj.Set("predictions", json.RawMessage("[]")).Bytes()
	answered := map[string]bool{}
	var fresh []json.RawMessage
	for _, rb := range ready {
		if rb.off.Load() {
			continue
		}
		resp, err := m.client.Predict(context.Background(), rb.b, rb.version, lineCfg, []json.RawMessage{req})
		var pred json.RawMessage
		if err == nil && len(resp.Results) == 0 {
			err = errors.New("the answer holds no prediction")
		}
		if err == nil {
			var bad []ml.Invalid
			pred, bad, err = ml.PreparePrediction(resp.Results[0], rb.b.Name, createdDate(m.now()), allow)
			job.invalidResults.Add(int64(len(bad)))
			for _, inv := range bad {
				s.log.Warn("ML prediction result left out", "backend", rb.b.Name, "task", tk.ID, "result", inv.String())
			}
		}
		if err != nil {
			job.backendErrors.Add(1)
			job.addError(rb.b.Name + ": " + ml.Message(err))
			m.noteError(rb.b, err)
			s.log.Debug("ML prediction failed", "backend", rb.b.Name, "task", tk.ID, "err", err)
			if rb.fails.Add(1) >= mlBreakerFailures && !rb.off.Swap(true) {
				job.addError(fmt.Sprintf("%s: not asked any more after %d failures in a row", rb.b.Name, mlBreakerFailures))
				s.log.Warn("ML backend not asked any more in this run", "backend", rb.b.Name, "failures", mlBreakerFailures, "err", err)
			}
			continue
		}
		rb.fails.Store(0)
		answered[rb.b.Name] = true
		fresh = append(fresh, pred)
	}
	if len(answered) == 0 {
		job.unchanged.Add(1)
		return
	}
	var merged []json.RawMessage
	if old, ok := obj.Get("predictions"); ok {
		var items []json.RawMessage
		if json.Unmarshal(old, &items) == nil {
			for _, it := range items {
				var by struct {
					CreatedBy string `json:"created_by"`
				}
				if json.Unmarshal(it, &by) == nil && answered[by.CreatedBy] {
					continue
				}
				merged = append(merged, it)
			}
		}
	}
	merged = append(merged, fresh...)
	if err := s.st.SetPredictions(project, tk.ID, ml.RawArray(merged)); err != nil {
		if errors.Is(err, store.ErrNotFound) { // deleted meanwhile
			job.unchanged.Add(1)
			return
		}
		job.storeErrors.Add(1)
		job.addError(fmt.Sprintf("task %d: %v", tk.ID, err))
		return
	}
	job.predicted.Add(1)
}

// progress counts a processed task and logs each tenth of the run.
func (s *Server) progress(m *mlService, job *predictJob) {
	n := job.processed.Add(1)
	if job.total <= 0 {
		return
	}
	decile := n * 10 / job.total
	if last := job.lastDecile.Load(); decile > last && decile < 10 && job.lastDecile.CompareAndSwap(last, decile) {
		elapsed := m.now().Sub(job.started).Seconds()
		rate := 0.0
		if elapsed > 0 {
			rate = float64(n) / elapsed
		}
		s.log.Info("ML predictions for all tasks", "done", n, "total", job.total,
			"percent", decile*10, "tasks_per_second", fmt.Sprintf("%.0f", rate))
	}
}

// predictionsStatus: GET /api/models/predictions/status — the progress of
// the current or latest mode=all_tasks run ({"state": "idle"} when none).
func (s *Server) predictionsStatus(c *fiber.Ctx) error {
	m := s.mlsvc()
	m.mu.Lock()
	job := m.jobs[s.projectName(c)]
	m.mu.Unlock()
	if job == nil {
		return c.JSON(fiber.Map{"state": "idle"})
	}
	return c.JSON(job.snapshot(m.now()))
}

// completionRecords streams the project's completions records (api.md
// §1.4: the task without predictions, with its completions list) in
// ascending task id, for /train.
func (s *Server) completionRecords(project string) func(emit func([]byte) error) error {
	return func(emit func([]byte) error) error {
		return s.st.EachTask(project, true, func(tk store.Task) error {
			obj, err := ml.ParseObject(tk.Raw)
			if err != nil {
				return fmt.Errorf("task %d: %w", tk.ID, err)
			}
			comps := make([]json.RawMessage, len(tk.Completions))
			for i, cm := range tk.Completions {
				comps[i] = cm.Raw
			}
			obj = obj.Delete("predictions").Set("completions", ml.RawArray(comps))
			return emit(obj.Bytes())
		})
	}
}

// trainModels: POST /api/models/train (and the deprecated /api/train),
// ml.md §6. The training runs in the background: the answer comes when
// every backend answered /train or the live timeout passed, whichever is
// first; a training that ends later is seen in GET /api/models/status.
func (s *Server) trainModels(c *fiber.Ctx) error {
	p, _, err := s.project(c)
	if err != nil {
		return err
	}
	if len(p.Settings.MLBackends) == 0 {
		return noMLBackend()
	}
	m := s.mlsvc()
	backends := make([]ml.Backend, len(p.Settings.MLBackends))
	for i, b := range p.Settings.MLBackends {
		backends[i] = toML(b)
	}
	connected := make([]bool, len(backends))
	var wg sync.WaitGroup
	for i, b := range backends {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), m.opts.LiveTimeout)
			defer cancel()
			_, err := m.client.Health(ctx, b.URL)
			connected[i] = err == nil
			if err != nil {
				m.noteError(b, err)
				s.log.Info("ML backend not connected: no training", "backend", b.Name, "err", err)
			}
		})
	}
	wg.Wait()
	var targets []ml.Backend
	for i, b := range backends {
		if connected[i] {
			targets = append(targets, b)
		}
	}
	if len(targets) == 0 {
		return jsonError(fiber.StatusBadRequest,
			"Training is not started: seems that you don't have any ML backend connected",
			"no ML backend connected")
	}
	for _, b := range targets {
		if err := s.checkNotTraining(m, p.Name, b); err != nil {
			return err
		}
	}
	lineCfg := labelconfig.LineConfig(p.LabelConfig)
	records := s.completionRecords(p.Name)
	type outcome struct {
		b   ml.Backend
		err error
	}
	results := make(chan outcome, len(targets))
	m.mu.Lock()
	for _, b := range targets {
		if m.state(b).training {
			m.mu.Unlock()
			return envelopeError(fiber.StatusInternalServerError, "Can't start new training: Train job is running.")
		}
	}
	for _, b := range targets {
		st := m.state(b)
		st.training, st.trainStarted = true, m.now()
	}
	m.mu.Unlock()
	for _, b := range targets {
		s.log.Info("ML training started", "backend", b.Name, "url", b.URL)
		go func() {
			job, err := m.client.Train(context.Background(), b, lineCfg, records)
			m.mu.Lock()
			st := m.state(b)
			st.training = false
			if job != "" {
				st.trainJob = job
			}
			m.mu.Unlock()
			if job != "" {
				s.saveTrainJob(p.Name, b.Name, job)
			}
			if err != nil {
				m.noteError(b, err)
				s.log.Warn("ML training failed", "backend", b.Name, "err", err)
			} else {
				s.log.Info("ML training answered", "backend", b.Name, "job", job)
			}
			results <- outcome{b, err}
		}()
	}
	timer := time.NewTimer(m.opts.LiveTimeout)
	defer timer.Stop()
	var msgs []string
wait:
	for range targets {
		select {
		case r := <-results:
			if r.err != nil {
				msgs = append(msgs, ml.Message(r.err))
			}
		case <-timer.C:
			break wait
		}
	}
	if len(msgs) > 0 {
		return envelopeError(fiber.StatusInternalServerError, "Can't update model: ML backend returns an error: "+strings.Join(msgs, "; "))
	}
	return c.JSON(fiber.Map{"details": "Training started"})
}

// mlStateDoc is the ML state kept in the database per project.
type mlStateDoc struct {
	// TrainJobs maps a backend name to its last train job id.
	TrainJobs map[string]string `json:"train_jobs"`
}

// trainJobMu serializes read-modify-writes of the stored ML state.
var trainJobMu sync.Mutex

// saveTrainJob keeps a backend's train job id in the database, as 0.8.1
// kept it in train_jobs.json, so that it survives a restart.
func (s *Server) saveTrainJob(project, backend, job string) {
	trainJobMu.Lock()
	defer trainJobMu.Unlock()
	var doc mlStateDoc
	if raw, err := s.st.MLState(project); err == nil && raw != nil {
		_ = json.Unmarshal(raw, &doc)
	}
	if doc.TrainJobs == nil {
		doc.TrainJobs = map[string]string{}
	}
	doc.TrainJobs[backend] = job
	raw, err := json.Marshal(doc)
	if err == nil {
		err = s.st.SetMLState(project, raw)
	}
	if err != nil {
		s.log.Warn("cannot store the ML train job", "project", project, "backend", backend, "err", err)
	}
}

// storedTrainJob reads a backend's last train job id from the database.
func (s *Server) storedTrainJob(project, backend string) string {
	raw, err := s.st.MLState(project)
	if err != nil || raw == nil {
		return ""
	}
	var doc mlStateDoc
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	return doc.TrainJobs[backend]
}

// checkNotTraining refuses a training while the backend trains (ml.md §6
// steps 2 and 3).
func (s *Server) checkNotTraining(m *mlService, project string, b ml.Backend) error {
	running := envelopeError(fiber.StatusInternalServerError, "Can't start new training: Train job is running.")
	m.mu.Lock()
	st := m.state(b)
	busy, job := st.training, st.trainJob
	m.mu.Unlock()
	if busy {
		return running
	}
	if job == "" {
		job = s.storedTrainJob(project, b.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.opts.LiveTimeout)
	defer cancel()
	if job != "" {
		status, err := m.client.JobStatus(ctx, b, job)
		switch e, ok := ml.AsError(err); {
		case err == nil && (status == "queued" || status == "started"):
			return running
		case ok && e.NotSupported():
			s.log.Debug("ML backend has no /job_status", "backend", b.Name)
		case err != nil:
			s.log.Info("ML job status failed", "backend", b.Name, "job", job, "err", err)
		}
	}
	ts, err := m.client.IsTraining(ctx, b)
	if err != nil {
		m.noteError(b, err)
		return envelopeError(fiber.StatusInternalServerError,
			fmt.Sprintf("Can't validate whether model is training for project %s: %s", project, ml.Message(err)))
	}
	if ts.IsTraining {
		return running
	}
	return nil
}

// modelStatus is one backend in GET /api/models/status (ml.md §7).
type modelStatus struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Status is "connected", "training", "disconnected" or "error".
	Status    string `json:"status"`
	Connected bool   `json:"connected"`
	Training  bool   `json:"training"`
	ModelDir  string `json:"model_dir"`
	// ModelVersion is "" when the model is not trained; ModelVersionDate
	// is the version read as Unix seconds, shown as 0.8.1's %c in UTC.
	ModelVersion     string `json:"model_version"`
	ModelVersionDate string `json:"model_version_date,omitempty"`
	TrainJob         string `json:"train_job,omitempty"`
	// Error is why this probe failed; LastError the latest failure of any
	// call to the backend.
	Error       string `json:"error,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	LastErrorAt string `json:"last_error_at,omitempty"`
}

// modelsStatus: GET /api/models/status — per backend, probed concurrently
// within the live timeout: health, setup and is_training, as the model
// page shows them.
func (s *Server) modelsStatus(c *fiber.Ctx) error {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return err
	}
	m := s.mlsvc()
	lineCfg := labelconfig.LineConfig(p.LabelConfig)
	out := make([]modelStatus, len(p.Settings.MLBackends))
	var wg sync.WaitGroup
	for i, sb := range p.Settings.MLBackends {
		b := toML(sb)
		wg.Go(func() { out[i] = s.probe(m, b, lineCfg) })
	}
	wg.Wait()
	return c.JSON(fiber.Map{"models": out})
}

func (s *Server) probe(m *mlService, b ml.Backend, lineCfg string) modelStatus {
	ms := modelStatus{Name: b.Name, URL: b.URL, Status: "disconnected"}
	ctx, cancel := context.WithTimeout(context.Background(), m.opts.LiveTimeout)
	defer cancel()
	h, err := m.client.Health(ctx, b.URL)
	if err == nil {
		ms.Connected, ms.ModelDir, ms.Status = true, path.Base(h.ModelDir), "connected"
		var v string
		if v, err = m.client.Setup(ctx, b, lineCfg); err == nil {
			m.setVersion(b, v)
			ms.ModelVersion = v
			var ts ml.TrainingStatus
			if ts, err = m.client.IsTraining(ctx, b); err == nil {
				ms.Training = ts.IsTraining
				if ts.HasModelVersion && ts.ModelVersion != "" {
					ms.ModelVersion = string(ts.ModelVersion)
				}
			}
		}
		if err != nil {
			ms.Status = "error"
			m.noteError(b, err)
		}
	}
	if err != nil {
		ms.Error = ml.Message(err)
		if !ms.Connected {
			m.noteError(b, err)
		}
	}
	m.mu.Lock()
	st := m.state(b)
	if st.training {
		ms.Training = true
	}
	ms.TrainJob = st.trainJob
	ms.LastError = st.lastError
	if !st.lastErrorAt.IsZero() {
		ms.LastErrorAt = st.lastErrorAt.Format(time.RFC3339)
	}
	m.mu.Unlock()
	if ms.Training && ms.Status == "connected" {
		ms.Status = "training"
	}
	if t, ok := ml.ParseVersionTime(ms.ModelVersion); ok {
		ms.ModelVersionDate = t.Format(time.ANSIC)
	}
	return ms
}

// afterDeleteAllTasks tells every ML backend that the project's tasks are
// gone (ml.md §5), in the background; failures are only logged.
func (s *Server) afterDeleteAllTasks(c *fiber.Ctx) {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return
	}
	m := s.mlsvc()
	for _, sb := range p.Settings.MLBackends {
		b := toML(sb)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), m.opts.LiveTimeout)
			defer cancel()
			err := m.client.Delete(ctx, b)
			switch e, ok := ml.AsError(err); {
			case err == nil:
			case ok && e.NotSupported():
				s.log.Debug("ML backend has no /delete", "backend", b.Name)
			default:
				s.log.Info("ML backend delete failed", "backend", b.Name, "err", err)
			}
		}()
	}
}
