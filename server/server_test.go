package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/store"
)

const textConfig = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`

// newTestServer builds a server over a fresh store in a temp dir with one
// project "test" holding textConfig. At cleanup the store gets bbolt's
// consistency check.
func newTestServer(t testing.TB) (*Server, *store.Store) {
	t.Helper()
	st := newTestStore(t, false)
	return New(st, Options{Project: "test", Version: "test"}), st
}

// openTestStore opens a store in a temp dir (without fsync when noSync);
// at cleanup it gets bbolt's consistency check and is closed.
func openTestStore(t testing.TB, noSync bool) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "labelstudio.db"), store.Options{Timeout: time.Second, NoSync: noSync})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("consistency check: %v", err)
		}
		st.Close()
	})
	return st
}

// newTestStore is openTestStore with a project "test" holding textConfig.
func newTestStore(t testing.TB, noSync bool) *store.Store {
	t.Helper()
	st := openTestStore(t, noSync)
	if _, err := st.CreateProject("test", store.DefaultSettings(), textConfig); err != nil {
		t.Fatal(err)
	}
	return st
}

type response struct {
	status int
	body   string
	header http.Header
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("body is not JSON (%v): %q", err, r.body)
	}
}

// call sends one request through the real router.
func call(t testing.TB, s *Server, method, url, contentType, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, url, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func callJSON(t testing.TB, s *Server, method, url, body string) response {
	t.Helper()
	return call(t, s, method, url, "application/json", body)
}

// importTexts imports n text tasks and returns their ids.
func importTexts(t testing.TB, s *Server, texts ...string) []int64 {
	t.Helper()
	var items []map[string]any
	for _, x := range texts {
		items = append(items, map[string]any{"text": x})
	}
	b, _ := json.Marshal(items)
	r := callJSON(t, s, "POST", "/api/project/import", string(b))
	if r.status != 201 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	var out struct {
		IDs []int64 `json:"new_task_ids"`
	}
	r.json(t, &out)
	return out.IDs
}

// scenario is one row of a table-driven HTTP test.
type scenario struct {
	name        string
	setup       func(t *testing.T, s *Server)
	method, url string
	contentType string
	body        string
	wantStatus  int
	want        []string
	notWant     []string
	wantHeader  map[string]string
}

func runScenarios(t *testing.T, rows []scenario) {
	t.Helper()
	for _, sc := range rows {
		t.Run(sc.name, func(t *testing.T) {
			s, _ := newTestServer(t)
			if sc.setup != nil {
				sc.setup(t, s)
			}
			ct := sc.contentType
			if ct == "" && sc.body != "" {
				ct = "application/json"
			}
			r := call(t, s, sc.method, sc.url, ct, sc.body)
			if r.status != sc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, sc.wantStatus, r.body)
			}
			for _, w := range sc.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("body lacks %q: %s", w, r.body)
				}
			}
			for _, w := range sc.notWant {
				if strings.Contains(r.body, w) {
					t.Errorf("body has %q: %s", w, r.body)
				}
			}
			for k, v := range sc.wantHeader {
				if got := r.header.Get(k); !strings.Contains(got, v) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func seed(texts ...string) func(*testing.T, *Server) {
	return func(t *testing.T, s *Server) { importTexts(t, s, texts...) }
}

func seedCompleted(t *testing.T, s *Server) {
	importTexts(t, s, "a", "b", "c")
	if r := callJSON(t, s, "POST", "/api/tasks/1/completions", `{"lead_time":2,"result":[{"id":"x","from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`); r.status != 201 {
		t.Fatalf("completion: %d %s", r.status, r.body)
	}
}

type storeSettings = store.Settings

func newRequest(method, url string) *http.Request { return httptest.NewRequest(method, url, nil) }
