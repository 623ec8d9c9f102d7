// Package crashtest kills the real labelstudio binary with SIGKILL while
// clients write to it, restarts it, and checks that nothing it acknowledged
// was lost and that the database is consistent.
//
// `make crash-test` runs 20 kills; `go test` alone (and so `make test`)
// runs 3. Set LABELSTUDIO_CRASH_RUNS to choose.
package crashtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/store"
)

const project = "crash"

// ledger records what the server acknowledged.
type ledger struct {
	mu sync.Mutex
	// created maps completion key "task/id" to the marker of its body.
	created map[string]string
	// patches maps a completion key to the notes sent, in order, and
	// acked to the index of the last acknowledged one (-1: none).
	patches map[string][]string
	acked   map[string]int
	writes  int
}

func newLedger() *ledger {
	return &ledger{created: map[string]string{}, patches: map[string][]string{}, acked: map[string]int{}}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "labelstudio")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the server and waits until it answers.
func start(t *testing.T, bin, dir string, port int) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "start", project, "--root-dir", dir, "--port", strconv.Itoa(port), "--no-browser", "--log-level", "error")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, base
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatal("server did not start")
	return nil, ""
}

func send(ctx context.Context, c *http.Client, method, url, body string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// client posts and patches completions until the server dies or ctx ends.
func client(ctx context.Context, base string, n int, tasks int, l *ledger, wg *sync.WaitGroup) {
	defer wg.Done()
	hc := &http.Client{Timeout: 5 * time.Second}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(n)))
	var mine []string
	for i := 0; ctx.Err() == nil; i++ {
		if len(mine) > 0 && rng.IntN(3) == 0 {
			key := mine[rng.IntN(len(mine))]
			task, id, _ := strings.Cut(key, "/")
			note := fmt.Sprintf("p%d-%d", n, i)
			l.mu.Lock()
			l.patches[key] = append(l.patches[key], note)
			idx := len(l.patches[key]) - 1
			l.mu.Unlock()
			st, _, err := send(ctx, hc, "PATCH", base+"/api/tasks/"+task+"/completions/"+id, `{"note":"`+note+`"}`)
			if err != nil {
				return
			}
			if st == 201 {
				l.mu.Lock()
				if idx > l.acked[key] {
					l.acked[key] = idx
				}
				l.writes++
				l.mu.Unlock()
			}
			continue
		}
		task := rng.IntN(tasks)
		marker := fmt.Sprintf("c%d-%d-%d", n, i, rng.Int())
		st, body, err := send(ctx, hc, "POST", fmt.Sprintf("%s/api/tasks/%d/completions", base, task),
			`{"lead_time":1,"marker":"`+marker+`","result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`)
		if err != nil {
			return
		}
		if st != 201 {
			continue
		}
		var out struct{ ID int64 }
		if json.Unmarshal(body, &out) != nil {
			continue
		}
		key := fmt.Sprintf("%d/%d", task, out.ID)
		l.mu.Lock()
		l.created[key] = marker
		l.acked[key] = -1
		l.writes++
		l.mu.Unlock()
		mine = append(mine, key)
	}
}

// verify checks every acknowledged write against the restarted server.
func verify(t *testing.T, base string, l *ledger) (lost int) {
	t.Helper()
	hc := &http.Client{Timeout: 10 * time.Second}
	cache := map[string]map[int64]map[string]any{}
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, marker := range l.created {
		task, idText, _ := strings.Cut(key, "/")
		id, _ := strconv.ParseInt(idText, 10, 64)
		comps, ok := cache[task]
		if !ok {
			st, body, err := send(context.Background(), hc, "GET", base+"/api/tasks/"+task, "")
			if err != nil || st != 200 {
				t.Errorf("task %s: %d %v", task, st, err)
				lost++
				continue
			}
			var tk struct {
				Completions []map[string]any `json:"completions"`
			}
			json.Unmarshal(body, &tk)
			comps = map[int64]map[string]any{}
			for _, c := range tk.Completions {
				if f, ok := c["id"].(float64); ok {
					comps[int64(f)] = c
				}
			}
			cache[task] = comps
		}
		c, ok := comps[id]
		if !ok || c["marker"] != marker {
			t.Errorf("acknowledged completion %s (marker %s) lost: %v", key, marker, c)
			lost++
			continue
		}
		// The note must be the last acknowledged one or a later one that
		// was sent but not answered before the kill.
		sent, ack := l.patches[key], l.acked[key]
		if ack >= 0 {
			okNote := false
			for _, n := range sent[ack:] {
				if c["note"] == n {
					okNote = true
				}
			}
			if !okNote {
				t.Errorf("completion %s: note %v, acknowledged %q", key, c["note"], sent[ack])
				lost++
			}
		}
	}
	return lost
}

// checkDatabase opens the file directly: bbolt's consistency check, and
// counters equal to a recount.
func checkDatabase(t *testing.T, dir string) {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "labelstudio.db"), store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatalf("consistency check: %v", err)
	}
	p, err := st.Project(project)
	if err != nil {
		t.Fatal(err)
	}
	var tasks, completed, comps int64
	err = st.EachTask(project, false, func(tk store.Task) error {
		tasks++
		if tk.Completed() {
			completed++
		}
		comps += int64(len(tk.Completions))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Counters.Tasks != tasks || p.Counters.CompletedTasks != completed || p.Counters.Completions != comps {
		t.Fatalf("counters %+v, recount tasks=%d completed=%d completions=%d", p.Counters, tasks, completed, comps)
	}
}

func TestKillDuringWrites(t *testing.T) {
	runs := 3
	if v := os.Getenv("LABELSTUDIO_CRASH_RUNS"); v != "" {
		runs, _ = strconv.Atoi(v)
	}
	if testing.Short() {
		runs = 1
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	const tasks = 500
	l := newLedger()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for run := 0; run < runs; run++ {
		port := freePort(t)
		cmd, base := start(t, bin, dir, port)
		if run == 0 {
			var items []string
			for i := 0; i < tasks; i++ {
				items = append(items, fmt.Sprintf(`{"text":"task %d"}`, i))
			}
			send(context.Background(), http.DefaultClient, "POST", base+"/api/project/config", `{"label_config":"<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\"><Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>"}`)
			if st, b, err := send(context.Background(), http.DefaultClient, "POST", base+"/api/project/import", "["+strings.Join(items, ",")+"]"); err != nil || st != 201 {
				t.Fatalf("import: %d %s %v", st, b, err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for n := 0; n < 4; n++ {
			wg.Add(1)
			go client(ctx, base, n, tasks, l, &wg)
		}
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
		wg.Wait()
		cmd, base = start(t, bin, dir, port)
		lost := verify(t, base, l)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		checkDatabase(t, dir)
		l.mu.Lock()
		t.Logf("run %d: %d acknowledged writes so far, %d completions, lost %d", run+1, l.writes, len(l.created), lost)
		l.mu.Unlock()
		if lost > 0 {
			t.Fatalf("run %d lost %d acknowledged writes", run+1, lost)
		}
	}
	fmt.Printf("crash test: %d kills, %d acknowledged writes, lost 0\n", runs, l.writes)
}
