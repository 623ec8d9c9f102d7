package server

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The fuzzers send arbitrary bodies and queries through the real router:
// every answer must be a well-formed response below 500.

func fuzzServer(f *testing.F) *Server {
	s, _ := newTestServer(f)
	importTexts(f, s, "a", "b", "c")
	if r := callJSON(f, s, "POST", "/api/tasks/1/completions", `{"result":[]}`); r.status != 201 {
		f.Fatal(r.body)
	}
	return s
}

func FuzzImportBody(f *testing.F) {
	for _, seed := range []string{`[{"text":"a"}]`, `{"data":{"text":"x"},"predictions":[{"result":[],"score":1}]}`, `[]`, `{}`, `null`, `[{"$undefined$":1}]`, `[{"data":{"text":"a"},"completions":[{"result":[{"x":1}]}]}]`, "\xff"} {
		f.Add(seed)
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body string) {
		r := callJSON(t, s, "POST", "/api/project/import", body)
		if r.status >= 500 || r.status < 200 {
			t.Fatalf("import %q: %d %s", body, r.status, r.body)
		}
	})
}

func FuzzCompletionBody(f *testing.F) {
	for _, seed := range []string{`{"result":[]}`, `{"id":1001,"result":[{"from_name":"a","to_name":"b","type":"choices","value":{"choices":["x"]}}]}`, `{"revision":"1"}`, `{"result":null}`, `[]`, `{"created_at":"x","was_cancelled":1}`} {
		f.Add(seed, true)
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, body string, patch bool) {
		method, path := "POST", "/api/tasks/1/completions"
		if patch {
			method, path = "PATCH", "/api/tasks/1/completions/1001"
		}
		r := callJSON(t, s, method, path, body)
		if r.status >= 500 {
			t.Fatalf("%s %q: %d %s", method, body, r.status, r.body)
		}
	})
}

func FuzzTasksQuery(f *testing.F) {
	f.Add("1", "10", "id", "all", "0")
	f.Add("0", "-1", "-completed_at", "id,data", "x")
	f.Add("9223372036854775807", "9223372036854775807", "has_cancelled_completions", "", "-1")
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, page, size, order, fields, id string) {
		if len(page)+len(size)+len(order)+len(fields)+len(id) > 16<<10 {
			return // longer than any header buffer takes; the server answers 431
		}
		q := url.Values{"page": {page}, "page_size": {size}, "order": {order}, "fields": {fields}}
		r := call(t, s, "GET", "/api/tasks?"+q.Encode(), "", "")
		if r.status >= 500 {
			t.Fatalf("tasks %v: %d %s", q, r.status, r.body)
		}
		path := "/api/tasks/" + url.PathEscape(id)
		if strings.ContainsAny(id, "?#") {
			return
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = path
		resp, err := s.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	})
}
