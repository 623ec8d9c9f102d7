package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"labelstudio/store"
)

// TestHostileInput sends malformed, oversized and odd requests to every
// kind of endpoint: each gets a 4xx with a detail, never a 500.
func TestHostileInput(t *testing.T) {
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepObj := strings.Repeat(`{"a":`, 50000) + "1" + strings.Repeat("}", 50000)
	bad := "\xff\xfe\xfd"
	rows := []scenario{
		{name: "import deep array", method: "POST", url: "/api/project/import", body: deep, wantStatus: 400},
		{name: "import deep object", method: "POST", url: "/api/project/import", body: deepObj, wantStatus: 400},
		{name: "import invalid utf8", method: "POST", url: "/api/project/import", body: `[{"text":"` + bad + `"}]`, wantStatus: 400},
		{name: "import wrong content type", method: "POST", url: "/api/project/import", contentType: "text/plain", body: `[{"text":"a"}]`, wantStatus: 400},
		{name: "import null", method: "POST", url: "/api/project/import", body: `null`, wantStatus: 400},
		{name: "import nulls", method: "POST", url: "/api/project/import", body: `[null]`, wantStatus: 400},
		{name: "import trailing garbage", method: "POST", url: "/api/project/import", body: `[{"text":"a"}] x`, wantStatus: 400},
		{name: "completion deep", setup: seed("a"), method: "POST", url: "/api/tasks/0/completions", body: deepObj, wantStatus: 400},
		{name: "completion invalid utf8", setup: seed("a"), method: "POST", url: "/api/tasks/0/completions", body: `{"result":"` + bad + `"}`, wantStatus: 400},
		{name: "completion huge task id", method: "POST", url: "/api/tasks/9223372036854775807/completions", body: `{}`, wantStatus: 404},
		{name: "completion id overflow", method: "POST", url: "/api/tasks/92233720368547758070/completions", body: `{}`, wantStatus: 400},
		{name: "patch deep", setup: seedCompleted, method: "PATCH", url: "/api/tasks/1/completions/1001", body: deep, wantStatus: 400},
		{name: "patch scalar", setup: seedCompleted, method: "PATCH", url: "/api/tasks/1/completions/1001", body: `"x"`, wantStatus: 400},
		{name: "config deep json", method: "POST", url: "/api/project/config", body: deepObj, wantStatus: 400},
		{name: "config not a string", method: "POST", url: "/api/project/config", body: `{"label_config": 5}`, wantStatus: 400},
		{name: "config deep xml", method: "POST", url: "/api/project/config", body: `{"label_config":"` + strings.Repeat("<View>", 5000) + strings.Repeat("</View>", 5000) + `"}`, wantStatus: 400},
		{name: "patch project deep", method: "PATCH", url: "/api/project", body: deepObj, wantStatus: 400},
		{name: "patch project ml not string", method: "PATCH", url: "/api/project", body: `{"ml_backend": {"a":1}}`, wantStatus: 400},
		{name: "tasks negative page size", method: "GET", url: "/api/tasks?page_size=-5", wantStatus: 422},
		{name: "tasks float page", method: "GET", url: "/api/tasks?page=1.5", wantStatus: 422},
		{name: "task id with spaces", method: "GET", url: "/api/tasks/%201", wantStatus: 400},
	}
	runScenarios(t, rows)
}

func TestBodyLimit(t *testing.T) {
	st := openStore(t)
	s := New(st, Options{Project: "test", BodyLimit: 1 << 20, SmallBodyLimit: 1 << 10})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.App().Listener(ln)
	t.Cleanup(func() { s.Shutdown(time.Second) })
	// Send a 2 MiB body while reading the answer. The server answers 413
	// and closes the connection; when it closes before the client has sent
	// everything, the client may see a reset instead of the answer, so
	// try a few times: one answer must be the 413 that says why.
	var r response
	for try := 0; try < 5 && r.status != 413; try++ {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			fmt.Fprintf(conn, "POST /api/project/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 2<<20)
			conn.Write([]byte(strings.Repeat("x", 2<<20)))
		}()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r = response{status: resp.StatusCode, body: string(b)}
		}
		conn.Close()
	}
	if r.status != 413 || !strings.Contains(r.body, "too large") || !strings.Contains(r.body, "1 MiB") {
		t.Fatalf("oversized import: %d %s", r.status, r.body)
	}
	// The server still answers after refusing it.
	if h, err := http.Get("http://" + ln.Addr().String() + "/api/health"); err != nil || h.StatusCode != 200 {
		t.Fatalf("health after an oversized body: %v", err)
	}
	r = callJSON(t, s, "POST", "/api/tasks/0/completions", `{"result":"`+strings.Repeat("x", 4<<10)+`"}`)
	if r.status != 413 || !strings.Contains(r.body, "1 KiB") {
		t.Fatalf("oversized completion: %d %s", r.status, r.body)
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	_, st := newTestServer(t)
	return st
}

// TestHostileInputMoreEndpoints covers the endpoints the first table does
// not: every answer is a 4xx with a detail (or the endpoint's own error
// shape), never a 500.
func TestHostileInputMoreEndpoints(t *testing.T) {
	deepObj := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	huge := strings.Repeat("x", 3<<20)
	rows := []scenario{
		{name: "models delete no body", method: "DELETE", url: "/api/models", contentType: "application/json", wantStatus: 400},
		{name: "models delete scalar", method: "DELETE", url: "/api/models", body: `7`, wantStatus: 400},
		{name: "models delete unknown", method: "DELETE", url: "/api/models", body: `{"name":"nobody"}`, wantStatus: 404},
		{name: "predictions bad mode", method: "POST", url: "/api/models/predictions?mode=%00", body: `{}`, wantStatus: 400},
		{name: "train without backends", method: "POST", url: "/api/models/train", body: deepObj, wantStatus: 400},
		{name: "storage settings unknown type", method: "POST", url: "/api/project/storage-settings?type=ftp&storage_for=source", contentType: "application/x-www-form-urlencoded", body: "path=x", wantStatus: 400},
		{name: "storage settings bad target", method: "POST", url: "/api/project/storage-settings?type=s3&storage_for=sideways", contentType: "application/x-www-form-urlencoded", body: "path=x", wantStatus: 400},
		{name: "project patch deep", method: "PATCH", url: "/api/projects/test", body: deepObj, wantStatus: 400},
		{name: "project patch wrong types", method: "PATCH", url: "/api/projects/test", body: `{"name": 5}`, wantStatus: 400},
		{name: "project delete unknown", method: "DELETE", url: "/api/projects/00000000-0000-4000-8000-000000000000", wantStatus: 404},
		{name: "switch with a huge uuid", method: "GET", url: "/api/project-switch?uuid=" + strings.Repeat("f", 4000), wantStatus: 404},
		{name: "import example huge config", method: "GET", url: "/api/import-example?label_config=" + strings.Repeat("%3CView%3E", 300), wantStatus: 400},
		{name: "validate huge config", method: "POST", url: "/api/validate-config", body: `{"label_config":"` + huge + `"}`, wantStatus: 400},
		{name: "render without config", method: "POST", url: "/render-label-studio", contentType: "application/x-www-form-urlencoded", body: "x=1", wantStatus: 417},
		{name: "render broken config", method: "GET", url: "/render-label-studio?config=%3CView", wantStatus: 400},
		{name: "upload traversal", method: "GET", url: "/data/upload/..%2f..%2fetc%2fpasswd", wantStatus: 400},
		{name: "local file not allowed", method: "GET", url: "/data/passwd?d=/etc", wantStatus: 403},
		{name: "time series huge column count", method: "GET", url: "/samples/time-series.csv?time=0&values=99999999", wantStatus: 400},
		{name: "example file bad q", method: "GET", url: "/api/import-example-file?q=%00", wantStatus: 400},
		{name: "tasks fields injection", method: "GET", url: "/api/tasks?fields=%00,%22", wantStatus: 200},
		{name: "completion of negative task", method: "POST", url: "/api/tasks/-5/completions", body: `{}`, wantStatus: 404},
		{name: "patch completion of huge id", method: "PATCH", url: "/api/tasks/0/completions/99999999999999999999", body: `{}`, wantStatus: 400},
	}
	runScenarios(t, rows)
}
