package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables that turn the test binary into a fake server when
// the harness starts it in -bin mode.
const (
	fakeModeEnv   = "LOADTEST_FAKE_SERVER" // "serve" or "fail"
	fakeRecordEnv = "LOADTEST_FAKE_RECORD" // file the fake appends its --root-dir to
)

func TestMain(m *testing.M) {
	switch os.Getenv(fakeModeEnv) {
	case "serve":
		os.Exit(fakeServerMain(os.Args[1:]))
	case "fail":
		fmt.Println("boom: cannot open the database")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// ---------------------------------------------------------------- statistics

func durs(vals ...int) []time.Duration {
	out := make([]time.Duration, len(vals))
	for i, v := range vals {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{durs(7), 7 * time.Millisecond},
		{durs(1, 2, 3), 2 * time.Millisecond},
		{durs(1, 2, 3, 10), 2500 * time.Microsecond},
		{durs(1, 1, 1, 1000), time.Millisecond},
		{[]time.Duration{1, 2}, 1}, // integer halves round down
	} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestPercentileNearestRank(t *testing.T) {
	seq := func(n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = time.Duration(i + 1)
		}
		return out
	}
	for _, tc := range []struct {
		n    int
		p    float64
		want time.Duration
	}{
		{1, 99, 1},
		{2, 99, 2},
		{10, 99, 10},
		{10, 50, 5},
		{100, 99, 99},
		{101, 99, 100}, // ceil(99.99) = 100
		{200, 99, 198},
		{1000, 99, 990},
		{1000, 100, 1000},
		{1000, 0.01, 1},
	} {
		if got := percentile(seq(tc.n), tc.p); got != tc.want {
			t.Errorf("percentile(1..%d, %v) = %v, want %v", tc.n, tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 99); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}

	// The p99 of 1000 samples is the 990th smallest: 10 slow outliers do
	// not move it, 11 do.
	for _, tc := range []struct {
		slow int
		want time.Duration
	}{{10, time.Millisecond}, {11, 100 * time.Millisecond}} {
		lat := make([]time.Duration, 1000)
		for i := range lat {
			lat[i] = time.Millisecond
		}
		for i := range tc.slow {
			lat[i*37] = 100 * time.Millisecond
		}
		if got := summarize(lat).P99; got != tc.want {
			t.Errorf("p99 with %d outliers = %v, want %v", tc.slow, got, tc.want)
		}
	}
}

func TestSummarizeUnsorted(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(lat), func(i, j int) { lat[i], lat[j] = lat[j], lat[i] })
	orig := slices.Clone(lat)

	st := summarize(lat)
	want := latencyStats{
		N:      100,
		Min:    time.Millisecond,
		Median: 50500 * time.Microsecond,
		P99:    99 * time.Millisecond,
		Max:    100 * time.Millisecond,
		Mean:   50500 * time.Microsecond,
	}
	if st != want {
		t.Errorf("summarize = %+v, want %+v", st, want)
	}
	if !slices.Equal(lat, orig) {
		t.Error("summarize reordered its input")
	}
	if st := summarize(nil); st != (latencyStats{}) {
		t.Errorf("summarize(nil) = %+v", st)
	}
}

// ---------------------------------------------------------------- /proc status

const sampleStatus = `Name:	labelstudio
Umask:	0022
State:	S (sleeping)
Tgid:	48211
Ngid:	0
Pid:	48211
PPid:	48190
TracerPid:	0
Uid:	1000	1000	1000	1000
Gid:	1000	1000	1000	1000
FDSize:	64
Groups:	4 24 27 1000
NStgid:	48211
NSpid:	48211
NSpgid:	48211
NSsid:	48190
VmPeak:	 1839456 kB
VmSize:	 1773920 kB
VmLck:	       0 kB
VmPin:	       0 kB
VmHWM:	  412388 kB
VmRSS:	  398112 kB
RssAnon:	  371540 kB
RssFile:	   26572 kB
RssShmem:	       0 kB
VmData:	  489244 kB
VmStk:	     132 kB
VmExe:	    9780 kB
VmLib:	       4 kB
VmPTE:	    1020 kB
VmSwap:	       0 kB
HugetlbPages:	       0 kB
CoreDumping:	0
THP_enabled:	1
Threads:	12
SigQ:	0/62811
SigPnd:	0000000000000000
ShdPnd:	0000000000000000
SigBlk:	0000000000000000
SigIgn:	0000000000000000
SigCgt:	fffffffd7fc1feff
CapInh:	0000000000000000
Cpus_allowed_list:	0-7
voluntary_ctxt_switches:	1573
nonvoluntary_ctxt_switches:	17
`

func TestParseProcStatus(t *testing.T) {
	st, err := parseProcStatus(strings.NewReader(sampleStatus))
	if err != nil {
		t.Fatal(err)
	}
	want := memStatus{
		VmPeak: 1839456 * 1024,
		VmSize: 1773920 * 1024,
		VmHWM:  412388 * 1024,
		VmRSS:  398112 * 1024,
	}
	if st != want {
		t.Errorf("parseProcStatus = %+v, want %+v", st, want)
	}
	if got := fmt.Sprintf("%.1f", mib(st.VmHWM)); got != "402.7" {
		t.Errorf("VmHWM = %s MiB, want 402.7", got)
	}
}

func TestParseProcStatusErrors(t *testing.T) {
	// A kernel thread has no Vm* lines at all.
	kthread := "Name:\tkworker/0:1\nState:\tI (idle)\nPid:\t7\nThreads:\t1\n"
	if _, err := parseProcStatus(strings.NewReader(kthread)); err == nil {
		t.Error("no error for a status without VmRSS/VmHWM")
	}
	for _, bad := range []string{
		"VmHWM:\t  12x kB\nVmRSS:\t 10 kB\n",
		"VmHWM:\t  12 parsecs\nVmRSS:\t 10 kB\n",
		"VmRSS:\t\n",
		"VmRSS:\t 1 2 3\n",
	} {
		if _, err := parseProcStatus(strings.NewReader(bad)); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
	// Lines of no interest are ignored even when they look odd.
	st, err := parseProcStatus(strings.NewReader("Groups:\nweird line without colon\nVmRSS:\t 10 kB\n"))
	if err != nil || st.VmRSS != 10240 || st.VmHWM != 0 {
		t.Errorf("got %+v, %v; want VmRSS 10240", st, err)
	}
}

func TestReadProcStatusSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	st, err := readProcStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.VmRSS == 0 || st.VmHWM < st.VmRSS || st.VmPeak < st.VmHWM {
		t.Errorf("implausible figures for self: %+v", st)
	}
	if _, err := readProcStatus(1 << 30); err == nil {
		t.Error("no error for a pid that does not exist")
	}
	s := startRSSSampler(os.Getpid(), time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	maxRSS, n, err := s.Stop()
	if err != nil || n == 0 || maxRSS == 0 {
		t.Errorf("sampler: max %d, %d samples, err %v", maxRSS, n, err)
	}
}

// ---------------------------------------------------------------- payloads and flags

func TestTaskText(t *testing.T) {
	seen := map[string]bool{}
	for _, i := range []int{0, 1, 9, 10, 99, 12345, 999999, 1000000, 123456789, 1<<62 + 12345} {
		s := taskText(i)
		if len(s) < minTextLen || len(s) > maxTextLen {
			t.Errorf("taskText(%d) has %d bytes: %q", i, len(s), s)
		}
		if !strings.Contains(s, "#"+strconv.Itoa(i)) {
			t.Errorf("taskText(%d) = %q lacks its index", i, s)
		}
	}
	for i := range 5000 {
		s := taskText(i)
		if len(s) < minTextLen || len(s) > maxTextLen {
			t.Fatalf("taskText(%d) has %d bytes: %q", i, len(s), s)
		}
		seen[strings.SplitN(s, " ", 2)[1]] = true // sentence without the index
	}
	if len(seen) < 1000 {
		t.Errorf("only %d distinct sentences in 5000 tasks", len(seen))
	}
}

func TestImportBody(t *testing.T) {
	body, err := importBody(95, 20)
	if err != nil {
		t.Fatal(err)
	}
	var tasks []struct {
		Data        map[string]string `json:"data"`
		Predictions []struct {
			Result []any    `json:"result"`
			Score  *float64 `json:"score"`
		} `json:"predictions"`
	}
	if err := json.Unmarshal(body, &tasks); err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 20 {
		t.Fatalf("%d tasks, want 20", len(tasks))
	}
	for k, task := range tasks {
		i := 95 + k
		if task.Data["text"] != taskText(i) {
			t.Errorf("task %d text %q", i, task.Data["text"])
		}
		if (i%10 == 0) != (len(task.Predictions) == 1) {
			t.Errorf("task %d: %d predictions", i, len(task.Predictions))
		}
		for _, p := range task.Predictions {
			if p.Result == nil || len(p.Result) != 0 || p.Score == nil || *p.Score < 0 || *p.Score > 1 {
				t.Errorf("task %d: bad prediction %+v", i, p)
			}
		}
	}
	if !bytes.Contains(body, []byte(`"result":[]`)) {
		t.Error("prediction result is not an empty array")
	}
}

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("100000, 1m,5k")
	if err != nil || !slices.Equal(got, []int{100000, 1000000, 5000}) {
		t.Errorf("parseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "-5", "1e6", "10,,20", "k"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q): no error", bad)
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-url", "http://127.0.0.1:8080/", "-pid", "42", "-tasks", "100000,1000000", "-clients", "8"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.url != "http://127.0.0.1:8080" || o.pid != 42 || !slices.Equal(o.tasks, []int{100000, 1000000}) ||
		o.clients != 8 || o.batch != 1000 || o.completions != 4000 || o.samples != 200 {
		t.Errorf("options = %+v", o)
	}
	for _, args := range [][]string{
		{},
		{"-bin", "x", "-url", "http://h:1"},
		{"-bin", "x", "-pid", "3"},
		{"-url", "ftp://h"},
		{"-bin", "x", "-batch", "0"},
		{"-bin", "x", "-completions", "-1"},
		{"-bin", "x", "extra"},
	} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q): no error", args)
		}
	}
	if _, err := parseOptions([]string{"-h"}, io.Discard); err != flag.ErrHelp {
		t.Errorf("-h: err %v, want flag.ErrHelp", err)
	}
}

func TestCompletionPlan(t *testing.T) {
	ids := make([]int64, 50)
	for i := range ids {
		ids[i] = int64(i * 3)
	}
	for _, tc := range []struct{ total, clients, wantClients int }{
		{40, 4, 4},
		{43, 4, 4},
		{120, 4, 4}, // more posts than tasks: each client cycles over its own chunk
		{3, 4, 3},
		{0, 4, 0},
		{10, 1, 1},
	} {
		plan := completionPlan(ids, tc.total, tc.clients)
		if len(plan) != tc.wantClients {
			t.Errorf("total %d clients %d: %d clients", tc.total, tc.clients, len(plan))
			continue
		}
		owner := map[int64]int{}
		posts := 0
		for c, list := range plan {
			posts += len(list)
			for _, id := range list {
				if prev, ok := owner[id]; ok && prev != c {
					t.Errorf("total %d: task %d used by clients %d and %d", tc.total, id, prev, c)
				}
				owner[id] = c
			}
		}
		if posts != tc.total {
			t.Errorf("total %d clients %d: %d posts", tc.total, tc.clients, posts)
		}
		if want := min(tc.total, len(ids)); len(owner) != want {
			t.Errorf("total %d: %d distinct tasks, want %d", tc.total, len(owner), want)
		}
	}
	if plan := completionPlan(nil, 10, 4); plan != nil {
		t.Errorf("plan without ids = %v", plan)
	}
}

func TestDecodeTaskList(t *testing.T) {
	for _, body := range []string{`[{"id":0},{"id":7}]`, ` {"tasks":[{"id":0},{"id":7}],"total":2}`} {
		list, err := decodeTaskList([]byte(body))
		if err != nil || len(list) != 2 || list[0].ID == nil || *list[0].ID != 0 || *list[1].ID != 7 {
			t.Errorf("decodeTaskList(%s) = %v, %v", body, list, err)
		}
	}
	for _, body := range []string{`{"total":2}`, `"x"`, `[1,2`} {
		if _, err := decodeTaskList([]byte(body)); err == nil {
			t.Errorf("decodeTaskList(%s): no error", body)
		}
	}
}

func TestFormatTable(t *testing.T) {
	got := formatTable([]string{"phase", "n", "note"}, []bool{false, true, false},
		[][]string{{"import", "100", "x"}, {"next", "5", ""}})
	want := "phase     n  note\n" +
		"import  100  x\n" +
		"next      5\n"
	if got != want {
		t.Errorf("formatTable:\n%s\nwant:\n%s", got, want)
	}
}

// ---------------------------------------------------------------- fake server

// fakeLS implements the endpoints the harness uses, in memory, with the
// status codes and answer shapes of Label Studio 0.8.1.
type fakeLS struct {
	mu           sync.Mutex
	configured   bool
	tasks        map[int64]*fakeTask
	nextID       int64
	completionID int64
	clock        int64

	// Faults, for the failure-counting test.
	deleteStatus int  // when set, DELETE /api/tasks/<id> answers this
	importShort  bool // when set, import answers a task_count one too small
}

// fakeTask is a stored task.
type fakeTask struct {
	ID          int64             `json:"id"`
	Data        map[string]any    `json:"data"`
	Predictions []json.RawMessage `json:"predictions,omitempty"`
	Completions []json.RawMessage `json:"completions,omitempty"`
	completedAt int64
}

func newFakeLS() *fakeLS { return &fakeLS{tasks: map[int64]*fakeTask{}} }

func writeJSONResponse(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeLS) sortedIDs() []int64 {
	ids := make([]int64, 0, len(f.tasks))
	for id := range f.tasks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (f *fakeLS) completedCount() int {
	n := 0
	for _, t := range f.tasks {
		if len(t.Completions) > 0 {
			n++
		}
	}
	return n
}

func (f *fakeLS) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSONResponse(w, 200, map[string]string{"status": "up"})
	})
	mux.HandleFunc("POST /api/project/config", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			LabelConfig string `json:"label_config"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil || !strings.HasPrefix(body.LabelConfig, "<View>") {
			writeJSONResponse(w, 400, map[string]string{"label_config": "bad config"})
			return
		}
		f.mu.Lock()
		f.configured = true
		f.mu.Unlock()
		writeJSONResponse(w, 201, map[string]any{})
	})
	mux.HandleFunc("GET /api/project", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		writeJSONResponse(w, 200, map[string]any{"task_count": len(f.tasks), "completion_count": f.completedCount()})
	})
	mux.HandleFunc("POST /api/project/import", func(w http.ResponseWriter, r *http.Request) {
		var in []struct {
			Data        map[string]any    `json:"data"`
			Predictions []json.RawMessage `json:"predictions"`
		}
		if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&in) != nil {
			writeJSONResponse(w, 400, map[string]string{"detail": "bad import"})
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.configured {
			writeJSONResponse(w, 400, map[string]string{"detail": "no label config"})
			return
		}
		for _, t := range in {
			if s, _ := t.Data["text"].(string); len(s) < minTextLen {
				writeJSONResponse(w, 400, map[string]string{"detail": "task without text"})
				return
			}
		}
		ids := []int64{}
		preds := 0
		for _, t := range in {
			id := f.nextID
			f.nextID++
			f.tasks[id] = &fakeTask{ID: id, Data: t.Data, Predictions: t.Predictions}
			ids = append(ids, id)
			preds += len(t.Predictions)
		}
		count := len(in)
		if f.importShort {
			count--
		}
		writeJSONResponse(w, 201, map[string]any{
			"task_count": count, "completion_count": 0, "prediction_count": preds,
			"duration": 0.01, "formats": []string{".json"}, "new_task_ids": ids,
		})
	})
	mux.HandleFunc("GET /api/tasks", func(w http.ResponseWriter, r *http.Request) {
		page, err1 := strconv.Atoi(r.FormValue("page"))
		size, err2 := strconv.Atoi(r.FormValue("page_size"))
		if err1 != nil || err2 != nil || page < 1 || size < 1 {
			writeJSONResponse(w, 422, map[string]string{"detail": "Incorrect page or page_size"})
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		ids := f.sortedIDs()
		switch r.FormValue("order") {
		case "", "id":
		case "-completed_at":
			slices.SortStableFunc(ids, func(a, b int64) int {
				return int(f.tasks[b].completedAt - f.tasks[a].completedAt)
			})
		default:
			writeJSONResponse(w, 422, map[string]string{"detail": "Incorrect order"})
			return
		}
		lo, hi := min((page-1)*size, len(ids)), min(page*size, len(ids))
		out := []*fakeTask{}
		for _, id := range ids[lo:hi] {
			out = append(out, f.tasks[id])
		}
		writeJSONResponse(w, 200, out)
	})
	taskID := func(w http.ResponseWriter, r *http.Request) (*fakeTask, bool) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		t := f.tasks[id]
		if err != nil || t == nil {
			writeJSONResponse(w, 404, map[string]string{"detail": "task not found"})
			return nil, false
		}
		return t, true
	}
	mux.HandleFunc("GET /api/tasks/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if t, ok := taskID(w, r); ok {
			writeJSONResponse(w, 200, t)
		}
	})
	mux.HandleFunc("DELETE /api/tasks/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.deleteStatus != 0 {
			writeJSONResponse(w, f.deleteStatus, map[string]string{"detail": "injected fault"})
			return
		}
		if t, ok := taskID(w, r); ok {
			delete(f.tasks, t.ID)
			w.WriteHeader(204)
		}
	})
	mux.HandleFunc("GET /api/project/next", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, id := range f.sortedIDs() {
			if t := f.tasks[id]; len(t.Completions) == 0 {
				writeJSONResponse(w, 200, t)
				return
			}
		}
		writeJSONResponse(w, 404, map[string]string{"detail": "No more tasks found"})
	})
	mux.HandleFunc("POST /api/tasks/{id}/completions", func(w http.ResponseWriter, r *http.Request) {
		var c struct {
			LeadTime float64           `json:"lead_time"`
			Result   []json.RawMessage `json:"result"`
		}
		if json.NewDecoder(r.Body).Decode(&c) != nil || c.Result == nil {
			writeJSONResponse(w, 400, map[string]string{"detail": "bad completion"})
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		t, ok := taskID(w, r)
		if !ok {
			return
		}
		f.completionID++
		f.clock++
		raw, _ := json.Marshal(map[string]any{"id": f.completionID, "lead_time": c.LeadTime, "result": c.Result})
		t.Completions = append(t.Completions, raw)
		t.completedAt = f.clock
		writeJSONResponse(w, 201, map[string]any{"id": f.completionID})
	})
	return mux
}

// fakeServerMain runs the fake as a process, as `labelstudio start` would
// be run by the harness, and stops on SIGTERM.
func fakeServerMain(args []string) int {
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	root := fs.String("root-dir", "", "")
	host := fs.String("host", "", "")
	port := fs.Int("port", 0, "")
	noBrowser := fs.Bool("no-browser", false, "")
	if len(args) < 2 || args[0] != "start" || args[1] != "bench" {
		fmt.Fprintf(os.Stderr, "fake: want `start bench ...`, got %q\n", args)
		return 2
	}
	if err := fs.Parse(args[2:]); err != nil || *root == "" || *host != "127.0.0.1" || *port == 0 || !*noBrowser {
		fmt.Fprintf(os.Stderr, "fake: bad arguments %q\n", args)
		return 2
	}
	if st, err := os.Stat(*root); err != nil || !st.IsDir() {
		fmt.Fprintf(os.Stderr, "fake: root dir: %v\n", err)
		return 2
	}
	if rec := os.Getenv(fakeRecordEnv); rec != "" {
		fh, err := os.OpenFile(rec, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(fh, *root)
			fh.Close()
		}
	}
	os.WriteFile(filepath.Join(*root, "tasks.json"), []byte("{}"), 0o644)
	l, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 1
	}
	srv := &http.Server{Handler: newFakeLS().handler()}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	fmt.Printf("Label Studio fake is up at http://%s\n", l.Addr())
	if err := srv.Serve(l); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "fake:", err)
		return 1
	}
	return 0
}

// ---------------------------------------------------------------- harness runs

func testOptions() *options {
	return &options{
		tasks: []int{2500}, batch: 1000, clients: 4, completions: 60,
		samples: 5, deletes: 3, timeout: 10 * time.Second, startTimeout: 20 * time.Second, seed: 1,
	}
}

func phaseNames(rep *sizeReport) []string {
	var names []string
	for _, p := range rep.Phases {
		names = append(names, p.Name)
	}
	return names
}

func findPhase(t *testing.T, rep *sizeReport, name string) phaseReport {
	t.Helper()
	for _, p := range rep.Phases {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no phase %q in %q", name, phaseNames(rep))
	return phaseReport{}
}

func TestHarnessAgainstFakeServer(t *testing.T) {
	fake := newFakeLS()
	srv := httptest.NewServer(fake.handler())
	defer srv.Close()

	o := testOptions()
	o.url = srv.URL
	if _, err := os.Stat("/proc/self/status"); err == nil {
		o.pid = os.Getpid()
	}
	var out bytes.Buffer
	full, err := runAll(context.Background(), o, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if full.Failures != 0 || len(full.Runs) != 1 {
		t.Fatalf("%d failures, %d runs: %s", full.Failures, len(full.Runs), out.String())
	}
	rep := full.Runs[0]

	wantPhases := []string{
		"config", "project (before)", "import", "project",
		"tasks p1 ps10", "tasks p1 ps100", "tasks last ps10", "tasks last ps100",
		"task by id", "next", "completions x4", "next (after)",
		"tasks -completed_at p1", "delete", "project (final)",
	}
	if got := phaseNames(rep); !slices.Equal(got, wantPhases) {
		t.Errorf("phases %q, want %q", got, wantPhases)
	}
	imp := findPhase(t, rep, "import")
	if imp.N != 3 || imp.RateUnit != "tasks/s" || imp.Rate <= 0 || imp.MBPerSec <= 0 {
		t.Errorf("import phase %+v", imp)
	}
	for _, name := range []string{"project", "tasks p1 ps10", "tasks last ps100", "task by id", "next"} {
		if p := findPhase(t, rep, name); p.N != o.samples || p.Rate <= 0 || p.MedianMS <= 0 || p.P99MS < p.MedianMS || p.MaxMS < p.P99MS {
			t.Errorf("phase %s: %+v", name, p)
		}
	}
	if p := findPhase(t, rep, "tasks last ps100"); p.Note != "page=25" {
		t.Errorf("last page of 2500 tasks by 100: %q", p.Note)
	}
	if p := findPhase(t, rep, "completions x4"); p.N != 60 || p.RateUnit != "compl/s" || p.Note != "60 tasks" {
		t.Errorf("completions phase %+v", p)
	}
	if p := findPhase(t, rep, "delete"); p.N != 3 {
		t.Errorf("delete phase %+v", p)
	}
	if p := findPhase(t, rep, "project (final)"); p.Note != "task_count=2497" {
		t.Errorf("final project phase %+v", p)
	}

	// The server state matches what the harness did.
	fake.mu.Lock()
	if len(fake.tasks) != 2497 || fake.completedCount() != 60 || fake.completionID != 60 {
		t.Errorf("fake holds %d tasks, %d completed, %d completions", len(fake.tasks), fake.completedCount(), fake.completionID)
	}
	for id := int64(0); id < 60; id++ {
		if t0 := fake.tasks[id]; t0 == nil || len(t0.Completions) != 1 {
			t.Errorf("task %d should have exactly one completion", id)
		}
	}
	for id := int64(2497); id < 2500; id++ {
		if fake.tasks[id] != nil {
			t.Errorf("task %d should have been deleted", id)
		}
	}
	fake.mu.Unlock()

	text := out.String()
	for _, want := range []string{"phase", "median(ms)", "p99(ms)", "max(ms)", "rate", "tasks/s", "MB/s", "failures: 0"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if o.pid != 0 {
		if rep.RSS == nil || rep.RSS.PeakBytes == 0 || rep.RSS.FinalBytes == 0 || rep.RSS.Samples == 0 {
			t.Errorf("rss report %+v", rep.RSS)
		}
		lines := strings.Split(strings.TrimSpace(text), "\n")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "peak RSS: ") || !strings.HasSuffix(last, " MiB (VmHWM)") {
			t.Errorf("last line %q", last)
		}
	}

	// A second size against the same server accounts for the tasks already
	// there.
	o.tasks = []int{700}
	full2, err := runAll(context.Background(), o, io.Discard, io.Discard)
	if err != nil || full2.Failures != 0 {
		t.Fatalf("second run: %v, failures %d: %q", err, full2.Failures, full2.Runs[0].FailureSamples)
	}
	if p := findPhase(t, full2.Runs[0], "project (before)"); p.Note != "task_count=2497" {
		t.Errorf("baseline %q", p.Note)
	}

	// JSON output round-trips.
	path := filepath.Join(t.TempDir(), "out.json")
	if err := writeJSON(path, full); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back fullReport
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Mode != "url" || len(back.Runs) != 1 || len(back.Runs[0].Phases) != len(wantPhases) ||
		back.Runs[0].Phases[2].Name != "import" || back.Runs[0].Phases[2].MedianMS != imp.MedianMS {
		t.Errorf("JSON round trip: %s", data)
	}
}

func TestHarnessCountsFailures(t *testing.T) {
	fake := newFakeLS()
	fake.deleteStatus = 500
	fake.importShort = true
	srv := httptest.NewServer(fake.handler())
	defer srv.Close()

	o := testOptions()
	o.url = srv.URL
	o.tasks = []int{1500}
	var out bytes.Buffer
	full, err := runAll(context.Background(), o, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rep := full.Runs[0]
	if p := findPhase(t, rep, "import"); p.Failures != 2 {
		t.Errorf("import failures %d, want 2 (one per batch)", p.Failures)
	}
	if p := findPhase(t, rep, "delete"); p.Failures != 3 {
		t.Errorf("delete failures %d, want 3", p.Failures)
	}
	// Nothing was deleted, so the final count is the import's and the
	// final project phase agrees with the server.
	if p := findPhase(t, rep, "project (final)"); p.Failures != 0 {
		t.Errorf("final project failures %d", p.Failures)
	}
	if full.Failures != 5 || rep.Failures != 5 {
		t.Errorf("total failures %d/%d, want 5", full.Failures, rep.Failures)
	}
	text := out.String()
	for _, want := range []string{"FAILURES: 5", "status 500, want [204]", "task_count 999, want 1000"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

func TestHarnessChecksTaskCount(t *testing.T) {
	fake := newFakeLS()
	mux := http.NewServeMux()
	mux.Handle("/", fake.handler())
	// A server that forgets one task in its project count.
	mux.HandleFunc("GET /api/project", func(w http.ResponseWriter, r *http.Request) {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		n := len(fake.tasks)
		if n > 0 {
			n--
		}
		writeJSONResponse(w, 200, map[string]any{"task_count": n})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	o := testOptions()
	o.url = srv.URL
	o.tasks = []int{1000}
	full, err := runAll(context.Background(), o, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rep := full.Runs[0]
	if p := findPhase(t, rep, "project"); p.Failures != o.samples {
		t.Errorf("project failures %d, want %d", p.Failures, o.samples)
	}
	if !slices.ContainsFunc(rep.FailureSamples, func(s string) bool {
		return strings.Contains(s, "task_count 999, want 1000")
	}) {
		t.Errorf("failure samples %q", rep.FailureSamples)
	}
}

func TestBinModeStartsAndStopsServer(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	record := filepath.Join(t.TempDir(), "roots")
	t.Setenv(fakeModeEnv, "serve")
	t.Setenv(fakeRecordEnv, record)

	o := testOptions()
	o.bin = os.Args[0]
	o.tasks = []int{1200, 300}
	var out bytes.Buffer
	full, err := runAll(context.Background(), o, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if full.Failures != 0 || len(full.Runs) != 2 || full.Mode != "bin" {
		t.Fatalf("failures %d, runs %d, mode %s", full.Failures, len(full.Runs), full.Mode)
	}
	for i, rep := range full.Runs {
		if rep.PID <= 0 || rep.RSS == nil || rep.RSS.PeakBytes == 0 || rep.RSS.Error != "" {
			t.Errorf("run %d: pid %d rss %+v", i, rep.PID, rep.RSS)
		}
		if rep.ServerExit != "exit status 0" || rep.StartupSeconds <= 0 || rep.DiskBytes <= 0 {
			t.Errorf("run %d: exit %q startup %v disk %d", i, rep.ServerExit, rep.StartupSeconds, rep.DiskBytes)
		}
		// A fresh server per size: the baseline is empty every time.
		if p := findPhase(t, rep, "project (before)"); p.Note != "task_count=0" {
			t.Errorf("run %d baseline %q", i, p.Note)
		}
	}
	if full.Runs[0].PID == full.Runs[1].PID {
		t.Error("the same server served both sizes")
	}
	data, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	roots := strings.Fields(string(data))
	if len(roots) != 2 || roots[0] == roots[1] {
		t.Fatalf("root dirs %q", roots)
	}
	for _, root := range roots {
		if _, err := os.Stat(filepath.Dir(root)); !os.IsNotExist(err) {
			t.Errorf("temporary dir of %s not removed: %v", root, err)
		}
	}
	if n := strings.Count(out.String(), "peak RSS: "); n != 2 {
		t.Errorf("%d peak RSS lines, want 2", n)
	}
}

func TestBinModeReportsStartFailure(t *testing.T) {
	t.Setenv(fakeModeEnv, "fail")
	o := testOptions()
	o.bin = os.Args[0]
	_, err := runAll(context.Background(), o, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "boom: cannot open the database") {
		t.Errorf("err = %v", err)
	}
}

func TestParseProcStatCPU(t *testing.T) {
	// A command name with a space and a parenthesis; utime 250, stime 50.
	line := "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 12345 0 0\n"
	got, err := parseProcStatCPU([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * time.Second; got != want {
		t.Fatalf("CPU %v, want %v", got, want)
	}
	if _, err := parseProcStatCPU([]byte("4242 (x) S 1 2")); err == nil {
		t.Fatal("a short stat line was accepted")
	}
	if _, err := readProcCPU(os.Getpid()); err != nil && runtime.GOOS == "linux" {
		t.Fatal(err)
	}
}

func TestParseHostCPU(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice:
	// the guest fields are inside user and nice and do not count twice.
	a, err := parseHostCPU([]byte("cpu  100 0 50 800 10 0 5 35 7 0\ncpu0 50 0 25 400 5 0 2 18 3 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a.total != 1000 || a.steal != 35 {
		t.Fatalf("total %d steal %d, want 1000 and 35", a.total, a.steal)
	}
	b, err := parseHostCPU([]byte("cpu  150 0 70 900 10 0 5 65 9 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := stealPercent(a, b); got != 15 {
		t.Fatalf("steal %v%%, want 15%% (30 of 200 ticks)", got)
	}
	if got := stealPercent(b, b); got != -1 {
		t.Fatalf("steal over no time %v, want -1", got)
	}
	// An old kernel's line without steal.
	if h, err := parseHostCPU([]byte("cpu 1 2 3 4\n")); err != nil || h.total != 10 || h.steal != 0 {
		t.Fatalf("%+v %v", h, err)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 x 3 4"} {
		if _, err := parseHostCPU([]byte(bad)); err == nil {
			t.Fatalf("%q was accepted", bad)
		}
	}
	if _, err := readHostCPU(); err != nil && runtime.GOOS == "linux" {
		t.Fatal(err)
	}
}

// The disk probe times real commits in the given directory and leaves
// nothing behind.
func TestProbeDisk(t *testing.T) {
	dir := t.TempDir()
	d, err := probeDiskIn(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d <= 0 {
		t.Fatalf("probe took %v", d)
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("probe left %d entries in %s", len(left), dir)
	}
}
