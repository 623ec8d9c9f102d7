package server

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestOriginGuard(t *testing.T) {
	s, _ := newTestServer(t)
	importTexts(t, s, "a")
	post := func(headers map[string]string) int {
		req := httptest.NewRequest("POST", "http://example.local:8080/api/tasks/0/completions", strings.NewReader(`{"result":[]}`))
		req.Host = "example.local:8080"
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := s.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"script without origin", nil, 201},
		{"own page", map[string]string{"Origin": "http://example.local:8080"}, 201},
		{"own page by referer", map[string]string{"Referer": "http://example.local:8080/tasks"}, 201},
		{"other site", map[string]string{"Origin": "http://evil.example"}, 403},
		{"other site by referer", map[string]string{"Referer": "http://evil.example/page"}, 403},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"opaque origin", map[string]string{"Origin": "null"}, 403},
	}
	for _, c := range cases {
		if got := post(c.headers); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// GET is never refused, and no CORS header is sent by default.
	req := httptest.NewRequest("GET", "/api/project", nil)
	req.Header.Set("Origin", "http://evil.example")
	resp, _ := s.App().Test(req, -1)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("GET from another origin: %d, CORS %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestAllowOrigin(t *testing.T) {
	_, st := newTestServer(t)
	s := New(st, Options{Project: "test", AllowOrigin: "https://tool.example"})
	req := httptest.NewRequest("OPTIONS", "/api/project/import", nil)
	req.Header.Set("Origin", "https://tool.example")
	resp, _ := s.App().Test(req, -1)
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://tool.example" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	req = httptest.NewRequest("POST", "/api/project/import", strings.NewReader(`[{"text":"a"}]`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://tool.example")
	resp, _ = s.App().Test(req, -1)
	if resp.StatusCode != 201 {
		t.Fatalf("allowed origin import: %d", resp.StatusCode)
	}
}

func TestHeavyWorkIsCapped(t *testing.T) {
	_, st := newTestServer(t)
	s := New(st, Options{Project: "test", HeavyWork: 1, HeavyWait: 50 * time.Millisecond})
	s.heavy <- struct{}{} // one export running
	r := call(t, s, "GET", "/api/project/export?format=JSON", "", "")
	if r.status != 503 || !strings.Contains(r.body, "busy") || r.header.Get("Retry-After") == "" {
		t.Fatalf("second heavy request: %d %s", r.status, r.body)
	}
	if r := call(t, s, "GET", "/api/project", "", ""); r.status != 200 {
		t.Fatalf("light request while busy: %d", r.status)
	}
	<-s.heavy
}
