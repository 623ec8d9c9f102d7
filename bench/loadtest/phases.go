package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// maxFailureSamples bounds the failure messages kept per task-count size.
const maxFailureSamples = 25

// phaseRec collects the measurements of one phase while it runs.
type phaseRec struct {
	name   string
	start  time.Time
	cpu    time.Duration // server CPU time at the start, -1 when unknown
	host   hostCPU       // the machine's CPU times at the start
	hostOK bool

	mu       sync.Mutex
	lat      []time.Duration
	ok       int   // requests answered with an expected status and body
	failures int   // unexpected statuses, transport errors, bad bodies
	units    int   // work items done (tasks imported, completions created)
	bytes    int64 // request body bytes sent
}

// add records one answered request.
func (p *phaseRec) add(d time.Duration, sent int) {
	p.mu.Lock()
	p.lat = append(p.lat, d)
	p.bytes += int64(sent)
	p.mu.Unlock()
}

// addUnits records done work items and one successful request.
func (p *phaseRec) addUnits(n int) {
	p.mu.Lock()
	p.units += n
	p.ok++
	p.mu.Unlock()
}

// runner drives the phases of one task-count size against one server.
type runner struct {
	client   *http.Client
	base     string // server URL without trailing slash
	pid      int    // server pid, 0 when unknown
	opts     *options
	progress io.Writer // progress messages, never nil
	rng      *rand.Rand

	mu       sync.Mutex
	failures int
	samples  []string

	phases []phaseReport
}

// newRunner prepares a runner for the server at base.
func newRunner(client *http.Client, base string, pid int, opts *options, progress io.Writer) *runner {
	if progress == nil {
		progress = io.Discard
	}
	return &runner{
		client:   client,
		base:     base,
		pid:      pid,
		opts:     opts,
		progress: progress,
		rng:      rand.New(rand.NewPCG(uint64(opts.seed), 0x1abe1)),
	}
}

// fail counts a failure of phase p and keeps its message.
func (r *runner) fail(p *phaseRec, format string, args ...any) {
	msg := p.name + ": " + fmt.Sprintf(format, args...)
	p.mu.Lock()
	p.failures++
	p.mu.Unlock()
	r.mu.Lock()
	r.failures++
	if len(r.samples) < maxFailureSamples {
		r.samples = append(r.samples, msg)
	}
	r.mu.Unlock()
}

// begin starts a phase.
func (r *runner) begin(name string) *phaseRec {
	p := &phaseRec{name: name, start: time.Now(), cpu: -1}
	if h, err := readHostCPU(); err == nil {
		p.host, p.hostOK = h, true
	}
	if r.pid > 0 {
		if c, err := readProcCPU(r.pid); err == nil {
			p.cpu = c
		}
	}
	return p
}

// end closes a phase and turns it into a report line. unit names what the
// rate counts: "req/s" counts successful requests, anything else counts the
// work items given to addUnits.
func (r *runner) end(p *phaseRec, unit string, note string) {
	wall := time.Since(p.start)
	p.mu.Lock()
	st := summarize(p.lat)
	rep := phaseReport{
		Name:        p.name,
		N:           st.N,
		Failures:    p.failures,
		MinMS:       ms(st.Min),
		MedianMS:    ms(st.Median),
		P99MS:       ms(st.P99),
		MaxMS:       ms(st.Max),
		MeanMS:      ms(st.Mean),
		WallSeconds: wall.Seconds(),
		RateUnit:    unit,
		Note:        note,
	}
	count := p.ok
	if unit != "req/s" {
		count = p.units
	}
	if secs := wall.Seconds(); secs > 0 {
		rep.Rate = float64(count) / secs
		if p.bytes > 0 && unit == "tasks/s" {
			rep.MBPerSec = float64(p.bytes) / 1e6 / secs
		}
	}
	p.mu.Unlock()
	rep.StealPercent = -1
	if h, err := readHostCPU(); err == nil && p.hostOK {
		rep.StealPercent = stealPercent(p.host, h)
	}
	if r.pid > 0 {
		if st, err := readProcStatus(r.pid); err == nil {
			rep.RSSAfterBytes = st.VmRSS
		}
		if c, err := readProcCPU(r.pid); err == nil && p.cpu >= 0 {
			rep.ServerCPUSeconds = (c - p.cpu).Seconds()
		}
	}
	r.phases = append(r.phases, rep)
}

// request sends one request, measures the time until the whole response
// body is read and checks the status against want. It returns the body and
// whether the status was expected; failures are recorded on p.
func (r *runner) request(ctx context.Context, p *phaseRec, method, path string, body []byte, want ...int) (int, []byte, bool) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		r.fail(p, "%s %s: %v", method, path, err)
		return 0, nil, false
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	t0 := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		if ctx.Err() == nil { // an interrupted run is reported once, not per request
			r.fail(p, "%s %s: %v", method, path, err)
		}
		return 0, nil, false
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		r.fail(p, "%s %s: reading body: %v", method, path, err)
		return resp.StatusCode, nil, false
	}
	p.add(d, len(body))
	if !slices.Contains(want, resp.StatusCode) {
		r.fail(p, "%s %s: status %d, want %v: %s", method, path, resp.StatusCode, want, snippet(data))
		return resp.StatusCode, data, false
	}
	return resp.StatusCode, data, true
}

// decode unmarshals a JSON response body into v, recording a failure when
// it is not valid.
func (r *runner) decode(p *phaseRec, what string, data []byte, v any) bool {
	if err := json.Unmarshal(data, v); err != nil {
		r.fail(p, "%s: bad JSON (%v): %s", what, err, snippet(data))
		return false
	}
	return true
}

// snippet shortens a response body for a failure message.
func snippet(b []byte) string {
	const n = 200
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// projectInfo is the part of GET /api/project the harness reads.
type projectInfo struct {
	TaskCount       *int64 `json:"task_count"`
	CompletionCount *int64 `json:"completion_count"`
}

// importAnswer is the part of the import answer the harness reads.
type importAnswer struct {
	TaskCount  *int64  `json:"task_count"`
	NewTaskIDs []int64 `json:"new_task_ids"`
}

// taskInfo is the part of a task the harness reads.
type taskInfo struct {
	ID *int64 `json:"id"`
}

// decodeTaskList accepts both shapes of a task page: a bare JSON array (as
// Label Studio 0.8.1 answers) or an object with a "tasks" array.
func decodeTaskList(data []byte) ([]taskInfo, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var obj struct {
			Tasks *[]taskInfo `json:"tasks"`
		}
		if err := json.Unmarshal(data, &obj); err != nil {
			return nil, err
		}
		if obj.Tasks == nil {
			return nil, fmt.Errorf("object without a tasks array")
		}
		return *obj.Tasks, nil
	}
	var list []taskInfo
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, err
	}
	return list, nil
}

// runSize runs all phases for one task-count size and returns the report.
// The report's phases and failures are filled in even when ctx ends early.
func (r *runner) runSize(ctx context.Context, tasks int) *sizeReport {
	rep := &sizeReport{Tasks: tasks, ServerURL: r.base, PID: r.pid}
	var sampler *rssSampler
	if r.pid > 0 {
		sampler = startRSSSampler(r.pid, 100*time.Millisecond)
	}
	r.phaseAll(ctx, tasks)
	if sampler != nil {
		maxRSS, n, serr := sampler.Stop()
		rr := &rssReport{MaxSampledBytes: maxRSS, Samples: n}
		st, err := readProcStatus(r.pid)
		if err != nil {
			if serr != nil {
				err = serr
			}
			rr.Error = err.Error()
		} else {
			rr.PeakBytes, rr.FinalBytes = st.VmHWM, st.VmRSS
			rr.MaxSampledBytes = max(rr.MaxSampledBytes, st.VmRSS)
		}
		rep.RSS = rr
	}
	if ctx.Err() != nil {
		rep.Error = "interrupted: " + ctx.Err().Error()
	}
	rep.Phases = r.phases
	rep.Failures = r.failures
	rep.FailureSamples = r.samples
	return rep
}

// phaseAll runs the phases in order, stopping early when ctx ends.
func (r *runner) phaseAll(ctx context.Context, tasks int) {
	steps := []func(context.Context, *sizeState){
		r.phaseConfig,
		r.phaseBaseline,
		func(ctx context.Context, s *sizeState) { r.phaseImport(ctx, s, tasks) },
		func(ctx context.Context, s *sizeState) { r.phaseProject(ctx, s, "project") },
		func(ctx context.Context, s *sizeState) { r.phaseTaskPage(ctx, s, "tasks p1 ps10", 1, 10, "") },
		func(ctx context.Context, s *sizeState) { r.phaseTaskPage(ctx, s, "tasks p1 ps100", 1, 100, "") },
		func(ctx context.Context, s *sizeState) { r.phaseTaskPage(ctx, s, "tasks last ps10", -1, 10, "") },
		func(ctx context.Context, s *sizeState) { r.phaseTaskPage(ctx, s, "tasks last ps100", -1, 100, "") },
		r.phaseTaskByID,
		func(ctx context.Context, s *sizeState) { r.phaseNext(ctx, s, "next") },
		r.phaseCompletions,
		func(ctx context.Context, s *sizeState) { r.phaseNext(ctx, s, "next (after)") },
		func(ctx context.Context, s *sizeState) {
			r.phaseTaskPage(ctx, s, "tasks -completed_at p1", 1, 10, "-completed_at")
		},
		r.phaseDelete,
		func(ctx context.Context, s *sizeState) { r.phaseProject(ctx, s, "project (final)") },
	}
	s := &sizeState{}
	for _, step := range steps {
		if ctx.Err() != nil {
			return
		}
		step(ctx, s)
	}
}

// sizeState is what the phases of one size learn and pass on.
type sizeState struct {
	baseline  int64          // task_count before importing
	expected  int64          // task_count the server should report
	total     int64          // task_count last reported by the server
	ids       []int64        // ids of the imported tasks, in import order
	completed map[int64]bool // ids given a completion in this run
	deleted   map[int64]bool // ids deleted in this run
}

// phaseConfig sets the labeling config.
func (r *runner) phaseConfig(ctx context.Context, s *sizeState) {
	p := r.begin("config")
	body, _ := json.Marshal(map[string]string{"label_config": labelConfig})
	if _, _, ok := r.request(ctx, p, http.MethodPost, "/api/project/config", body, http.StatusCreated); ok {
		p.addUnits(0)
	}
	r.end(p, "req/s", "")
}

// getTaskCount reads task_count from GET /api/project.
func (r *runner) getTaskCount(ctx context.Context, p *phaseRec) (int64, bool) {
	_, data, ok := r.request(ctx, p, http.MethodGet, "/api/project", nil, http.StatusOK)
	if !ok {
		return 0, false
	}
	var info projectInfo
	if !r.decode(p, "GET /api/project", data, &info) {
		return 0, false
	}
	if info.TaskCount == nil {
		r.fail(p, "GET /api/project: no task_count in %s", snippet(data))
		return 0, false
	}
	return *info.TaskCount, true
}

// phaseBaseline reads the task count before importing, so that a server
// that already holds tasks (-url mode) is measured correctly.
func (r *runner) phaseBaseline(ctx context.Context, s *sizeState) {
	p := r.begin("project (before)")
	if n, ok := r.getTaskCount(ctx, p); ok {
		s.baseline = n
		p.addUnits(0)
	}
	s.expected, s.total = s.baseline, s.baseline
	r.end(p, "req/s", fmt.Sprintf("task_count=%d", s.baseline))
}

// phaseImport posts the tasks in batches. The bodies are all built before
// the phase's clock starts, as a client with its files ready would send
// them: building a body takes about as much CPU as the server spends
// storing it, and on a small machine the two would compete.
func (r *runner) phaseImport(ctx context.Context, s *sizeState, tasks int) {
	type batch struct {
		n    int
		body []byte
		err  error
	}
	var all []batch
	for start := 0; start < tasks; start += r.opts.batch {
		n := min(r.opts.batch, tasks-start)
		body, err := importBody(start, n)
		all = append(all, batch{n: n, body: body, err: err})
	}
	p := r.begin("import")
	s.ids = make([]int64, 0, tasks)
	lastReport := time.Now()
	sent := 0
	for i := range all {
		b := all[i]
		all[i].body = nil // sent: let it go
		if ctx.Err() != nil {
			break
		}
		if b.err != nil {
			r.fail(p, "building body: %v", b.err)
			continue
		}
		sent += b.n
		_, data, ok := r.request(ctx, p, http.MethodPost, "/api/project/import", b.body, http.StatusCreated)
		if !ok {
			continue
		}
		var ans importAnswer
		if !r.decode(p, "POST /api/project/import", data, &ans) {
			continue
		}
		switch {
		case ans.TaskCount == nil || *ans.TaskCount != int64(b.n):
			r.fail(p, "POST /api/project/import: task_count %s, want %d", fmtPtr(ans.TaskCount), b.n)
		case len(ans.NewTaskIDs) != b.n:
			r.fail(p, "POST /api/project/import: %d new_task_ids, want %d", len(ans.NewTaskIDs), b.n)
		default:
			p.addUnits(b.n)
		}
		s.ids = append(s.ids, ans.NewTaskIDs...)
		if time.Since(lastReport) > 5*time.Second {
			lastReport = time.Now()
			el := time.Since(p.start).Seconds()
			fmt.Fprintf(r.progress, "  import: %d/%d tasks sent (%.0f tasks/s)\n", sent, tasks, float64(sent)/el)
		}
	}
	s.expected = s.baseline + int64(tasks)
	r.end(p, "tasks/s", "")
}

// fmtPtr prints an optional number.
func fmtPtr(v *int64) string {
	if v == nil {
		return "missing"
	}
	return strconv.FormatInt(*v, 10)
}

// phaseProject reads GET /api/project samples times and checks task_count.
func (r *runner) phaseProject(ctx context.Context, s *sizeState, name string) {
	p := r.begin(name)
	for i := 0; i < r.opts.samples && ctx.Err() == nil; i++ {
		n, ok := r.getTaskCount(ctx, p)
		if !ok {
			continue
		}
		s.total = n
		if n != s.expected {
			r.fail(p, "GET /api/project: task_count %d, want %d", n, s.expected)
			continue
		}
		p.addUnits(0)
	}
	r.end(p, "req/s", fmt.Sprintf("task_count=%d", s.total))
}

// phaseTaskPage reads one page of GET /api/tasks samples times and checks
// its length. page -1 means the last page, computed from task_count.
func (r *runner) phaseTaskPage(ctx context.Context, s *sizeState, name string, page, size int, order string) {
	total := s.total
	if page < 0 {
		page = int(max(1, (total+int64(size)-1)/int64(size)))
	}
	want := min(int64(size), max(0, total-int64(page-1)*int64(size)))
	path := fmt.Sprintf("/api/tasks?page=%d&page_size=%d", page, size)
	if order != "" {
		path += "&order=" + order
	}
	p := r.begin(name)
	for i := 0; i < r.opts.samples && ctx.Err() == nil; i++ {
		_, data, ok := r.request(ctx, p, http.MethodGet, path, nil, http.StatusOK)
		if !ok {
			continue
		}
		list, err := decodeTaskList(data)
		if err != nil {
			r.fail(p, "GET %s: bad task list (%v): %s", path, err, snippet(data))
			continue
		}
		if int64(len(list)) != want {
			r.fail(p, "GET %s: %d tasks, want %d", path, len(list), want)
			continue
		}
		p.addUnits(0)
	}
	r.end(p, "req/s", fmt.Sprintf("page=%d", page))
}

// phaseTaskByID reads random imported tasks by id.
func (r *runner) phaseTaskByID(ctx context.Context, s *sizeState) {
	p := r.begin("task by id")
	if len(s.ids) == 0 {
		r.end(p, "req/s", "skipped: no imported ids")
		return
	}
	for i := 0; i < r.opts.samples && ctx.Err() == nil; i++ {
		id := s.ids[r.rng.IntN(len(s.ids))]
		path := "/api/tasks/" + strconv.FormatInt(id, 10)
		_, data, ok := r.request(ctx, p, http.MethodGet, path, nil, http.StatusOK)
		if !ok {
			continue
		}
		var t taskInfo
		if !r.decode(p, "GET "+path, data, &t) {
			continue
		}
		if t.ID == nil || *t.ID != id {
			r.fail(p, "GET %s: id %s, want %d", path, fmtPtr(t.ID), id)
			continue
		}
		p.addUnits(0)
	}
	r.end(p, "req/s", "")
}

// phaseNext asks for the next task to label. A 404 means no task is left;
// a task answered after the completions must not be one of them.
func (r *runner) phaseNext(ctx context.Context, s *sizeState, name string) {
	p := r.begin(name)
	notFound := 0
	for i := 0; i < r.opts.samples && ctx.Err() == nil; i++ {
		status, data, ok := r.request(ctx, p, http.MethodGet, "/api/project/next", nil, http.StatusOK, http.StatusNotFound)
		if !ok {
			continue
		}
		if status == http.StatusNotFound {
			notFound++
			p.addUnits(0)
			continue
		}
		var t taskInfo
		if !r.decode(p, "GET /api/project/next", data, &t) {
			continue
		}
		if t.ID == nil {
			r.fail(p, "GET /api/project/next: task without id: %s", snippet(data))
			continue
		}
		if s.completed[*t.ID] {
			r.fail(p, "GET /api/project/next: task %d already has a completion", *t.ID)
			continue
		}
		p.addUnits(0)
	}
	note := ""
	if notFound > 0 {
		note = fmt.Sprintf("%d x 404", notFound)
	}
	r.end(p, "req/s", note)
}

// completionPlan splits the completion POSTs among clients: client c gets
// the c-th contiguous chunk of the first min(total, len(ids)) ids and posts
// to them in turn, so no two clients share a task and, when total does not
// exceed len(ids), every post goes to a different task. It returns one id list
// per client that has work.
func completionPlan(ids []int64, total, clients int) [][]int64 {
	pool := ids[:min(total, len(ids))]
	clients = min(clients, len(pool))
	if total <= 0 || clients <= 0 {
		return nil
	}
	// share splits count into clients parts, the first ones one larger.
	share := func(count, c int) int {
		n := count / clients
		if c < count%clients {
			n++
		}
		return n
	}
	plan := make([][]int64, clients)
	lo := 0
	for c := range clients {
		chunk := pool[lo : lo+share(len(pool), c)]
		lo += len(chunk)
		list := make([]int64, share(total, c))
		for k := range list {
			list[k] = chunk[k%len(chunk)]
		}
		plan[c] = list
	}
	return plan
}

// phaseCompletions posts completions from concurrent clients.
func (r *runner) phaseCompletions(ctx context.Context, s *sizeState) {
	p := r.begin(fmt.Sprintf("completions x%d", r.opts.clients))
	s.completed = make(map[int64]bool)
	plan := completionPlan(s.ids, r.opts.completions, r.opts.clients)
	if len(plan) == 0 {
		r.end(p, "compl/s", "skipped: no ids or -completions 0")
		return
	}
	var (
		wg     sync.WaitGroup
		doneMu sync.Mutex
	)
	body := []byte(completionBody)
	for _, list := range plan {
		wg.Go(func() {
			for _, id := range list {
				if ctx.Err() != nil {
					return
				}
				path := "/api/tasks/" + strconv.FormatInt(id, 10) + "/completions"
				_, data, ok := r.request(ctx, p, http.MethodPost, path, body, http.StatusCreated)
				if !ok {
					continue
				}
				var ans taskInfo
				if !r.decode(p, "POST "+path, data, &ans) {
					continue
				}
				if ans.ID == nil {
					r.fail(p, "POST %s: no completion id in %s", path, snippet(data))
					continue
				}
				p.addUnits(1)
				doneMu.Lock()
				s.completed[id] = true
				doneMu.Unlock()
			}
		})
	}
	wg.Wait()
	r.end(p, "compl/s", fmt.Sprintf("%d tasks", len(s.completed)))
}

// phaseDelete deletes a few imported tasks, taken from the end of the
// import so that they carry no completion where possible.
func (r *runner) phaseDelete(ctx context.Context, s *sizeState) {
	p := r.begin("delete")
	s.deleted = make(map[int64]bool)
	var victims []int64
	for i := len(s.ids) - 1; i >= 0 && len(victims) < r.opts.deletes; i-- {
		if id := s.ids[i]; !s.completed[id] && !slices.Contains(victims, id) {
			victims = append(victims, id)
		}
	}
	for _, id := range victims {
		if ctx.Err() != nil {
			break
		}
		path := "/api/tasks/" + strconv.FormatInt(id, 10)
		if _, _, ok := r.request(ctx, p, http.MethodDelete, path, nil, http.StatusNoContent); ok {
			s.deleted[id] = true
			p.addUnits(0)
		}
	}
	s.expected -= int64(len(s.deleted))
	r.end(p, "req/s", "")
}
