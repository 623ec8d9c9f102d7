package server

import (
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/store"
)

// recount counts a project's tasks, completions and predictions by
// walking them, to compare with the stored counters.
func recount(t *testing.T, st *store.Store, project string) store.Counters {
	t.Helper()
	var c store.Counters
	err := st.EachTask(project, false, func(tk store.Task) error {
		c.Tasks++
		if len(tk.Completions) > 0 {
			c.CompletedTasks++
		}
		for _, cp := range tk.Completions {
			c.Completions++
			if cp.WasCancelled {
				c.CancelledCompletions++
			}
		}
		var probe struct {
			Predictions []json.RawMessage `json:"predictions"`
		}
		if err := json.Unmarshal(tk.Raw, &probe); err != nil {
			return err
		}
		c.Predictions += int64(len(probe.Predictions))
		return nil
	})
	if err != nil {
		t.Fatalf("recount %s: %v", project, err)
	}
	return c
}

// checkBackupFile opens a backup read-only, runs the consistency check and
// compares every project's counters with a recount.
func checkBackupFile(t *testing.T, path string) (projects int, tasks int64) {
	t.Helper()
	st, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatalf("backup fails the consistency check: %v", err)
	}
	infos, err := st.Projects()
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range infos {
		p, err := st.Project(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got := recount(t, st, info.Name); got != p.Counters {
			t.Errorf("backup %s, project %s: counters %+v, recount %+v", filepath.Base(path), info.Name, p.Counters, got)
		}
		tasks += p.Counters.Tasks
	}
	return len(infos), tasks
}

func newBackupServer(t *testing.T, opts Options) (*Server, *store.Store) {
	t.Helper()
	st := newTestStore(t, true)
	if opts.Project == "" && !opts.MultiSession {
		opts.Project = "test"
	}
	return New(st, opts), st
}

var backupName = regexp.MustCompile(`^attachment; filename="labelstudio-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.db"$`)

// getBackup downloads GET /api/backup into a file and checks its headers.
func getBackup(t *testing.T, s *Server, path string) {
	t.Helper()
	resp, err := s.App().Test(httptest.NewRequest("GET", "/api/backup", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/backup: %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !backupName.MatchString(cd) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(b)) {
		t.Errorf("Content-Length %q for %d bytes", cl, len(b))
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestBackupEndpoint(t *testing.T) {
	s, st := newBackupServer(t, Options{Version: "test", Now: func() time.Time { return time.Date(2024, 3, 5, 7, 8, 9, 0, time.UTC) }})
	if _, err := st.ImportTasks("test", []store.NewTask{
		{Data: json.RawMessage(`{"text":"a"}`), DataKeys: []string{"text"}, Predictions: json.RawMessage(`[{"result":[],"score":0.5}]`)},
		{Data: json.RawMessage(`{"text":"b"}`), DataKeys: []string{"text"}},
	}, store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveCompletion("test", 0, []byte(`{"result":[]}`), true); err != nil {
		t.Fatal(err)
	}
	resp, err := s.App().Test(httptest.NewRequest("GET", "/api/backup", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="labelstudio-2024-03-05-07-08-09.db"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	path := filepath.Join(t.TempDir(), "b.db")
	getBackup(t, s, path)
	if n, tasks := checkBackupFile(t, path); n != 1 || tasks != 2 {
		t.Errorf("backup holds %d projects, %d tasks", n, tasks)
	}
	// The temporary copies are gone once sent.
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(st.Path()), ".backup-download-*"))
	if len(left) > 0 {
		t.Errorf("temporary backup files left: %q", left)
	}

	// HEAD sends the headers only, and cleans up too.
	resp, err = s.App().Test(httptest.NewRequest("HEAD", "/api/backup", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HEAD /api/backup: %d", resp.StatusCode)
	}
	left, _ = filepath.Glob(filepath.Join(filepath.Dir(st.Path()), ".backup-download-*"))
	if len(left) > 0 {
		t.Errorf("temporary backup files left after HEAD: %q", left)
	}
}

func TestBackupRefusedInMultiSession(t *testing.T) {
	s, _ := newBackupServer(t, Options{Version: "test", MultiSession: true, DefaultLabelConfig: textConfig})
	r := call(t, s, "GET", "/api/backup", "", "")
	if r.status != 403 {
		t.Fatalf("multi-session backup: %d %s", r.status, r.body)
	}
}

// TestBackupDuringWriteStorm takes backups over HTTP and to a file while
// several goroutines post, replace and delete completions and import
// tasks for about a second: every backup opens, passes the consistency
// check, and its counters equal a recount.
func TestBackupDuringWriteStorm(t *testing.T) {
	s, st := newBackupServer(t, Options{Version: "test"})
	var tasks []store.NewTask
	for i := 0; i < 300; i++ {
		tasks = append(tasks, store.NewTask{Data: json.RawMessage(fmt.Sprintf(`{"text":"t%d"}`, i)), DataKeys: []string{"text"}})
	}
	if _, err := st.ImportTasks("test", tasks, store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes atomic.Int64
	errs := make(chan error, 16)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := int64((i*7 + g*31) % 300)
				var err error
				switch {
				case i%23 == 0:
					err = st.DeleteTaskCompletions("test", id)
				case i%41 == 0:
					_, err = st.ImportTasks("test", []store.NewTask{{
						Data: json.RawMessage(fmt.Sprintf(`{"text":"new %d %d"}`, g, i)), DataKeys: []string{"text"},
						Predictions: json.RawMessage(`[{"result":[],"score":0.1}]`),
					}}, store.ImportOptions{})
				default:
					body := fmt.Sprintf(`{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}],"lead_time":%d}`, i)
					_, err = st.SaveCompletion("test", id, []byte(body), i%5 == 0)
				}
				if err != nil {
					select {
					case errs <- fmt.Errorf("writer %d: %w", g, err):
					default:
					}
					return
				}
				writes.Add(1)
			}
		}(g)
	}
	dir := t.TempDir()
	deadline := time.Now().Add(time.Second)
	backups := 0
	for i := 0; time.Now().Before(deadline) || backups < 4; i++ {
		path := filepath.Join(dir, fmt.Sprintf("b%d.db", i))
		if i%2 == 0 {
			getBackup(t, s, path)
		} else if _, err := st.BackupFile(path); err != nil {
			t.Fatal(err)
		}
		backups++
		checkBackupFile(t, path)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if writes.Load() < 50 {
		t.Errorf("only %d writes during the storm", writes.Load())
	}
	t.Logf("%d backups during %d writes", backups, writes.Load())
	final := filepath.Join(dir, "final.db")
	getBackup(t, s, final)
	p, _ := st.Project("test")
	if _, n := checkBackupFile(t, final); n != p.Counters.Tasks {
		t.Errorf("final backup holds %d tasks, the store %d", n, p.Counters.Tasks)
	}
}
