package server

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"labelstudio/frontend"
	"labelstudio/store"
)

func TestPages(t *testing.T) {
	bundle := frontend.BundleBuilt()
	widget := `id="label-studio"`
	if !bundle {
		widget = "make frontend"
	}
	runScenarios(t, []scenario{
		{name: "labeling redirects an empty project to welcome", method: "GET", url: "/", wantStatus: 302,
			wantHeader: map[string]string{"Location": "/welcome"}},
		{name: "labeling stream", setup: seed("a", "b"), method: "GET", url: "/", wantStatus: 200,
			want:       []string{widget, "Keyboard shortcuts", `window.LS_PAGE = JSON.parse(`, `\"task\":null`, `class="active" aria-current="page">Labeling`},
			wantHeader: map[string]string{"Content-Type": "text/html"}},
		{name: "labeling stream carries its first task", setup: seed("first of the stream", "b"), method: "GET", url: "/", wantStatus: 200,
			want: []string{`\"firstTask\":\"{\\\"id\\\":0,`, `first of the stream`, `\"noTaskLeft\":false`}},
		{name: "labeling one task", setup: seed("first text", "b"), method: "GET", url: "/?task_id=0", wantStatus: 200,
			want: []string{`first text`, `\"task\":\"{`}},
		{name: "labeling an unknown task", setup: seed("a"), method: "GET", url: "/?task_id=99", wantStatus: 404,
			want: []string{"Project loading error", "99"}},
		{name: "labeling a bad task id", setup: seed("a"), method: "GET", url: "/?task_id=abc", wantStatus: 404,
			want: []string{"Project loading error", "abc"}},
		{name: "welcome", method: "GET", url: "/welcome", wantStatus: 200,
			want: []string{"Set up the labeling config", "Import tasks", "Label the tasks", "Export the completions"}},
		{name: "tasks", method: "GET", url: "/tasks", wantStatus: 200, want: []string{`id="tasks"`, "static/app/tasks.js?v="}},
		{name: "tasks by POST", method: "POST", url: "/tasks", wantStatus: 200, want: []string{`id="tasks"`}},
		{name: "tasks with a trailing slash", method: "GET", url: "/tasks/", wantStatus: 200, want: []string{`<base href="/">`}},
		{name: "setup shows the config", method: "GET", url: "/setup", wantStatus: 200,
			want: []string{`id="config"`, `Choice value=`, `Positive`}},
		{name: "import", method: "GET", url: "/import", wantStatus: 200, want: []string{`id="dropzone"`}},
		{name: "export", method: "GET", url: "/export", wantStatus: 200, want: []string{`id="formats"`}},
		{name: "model", method: "GET", url: "/model", wantStatus: 200, want: []string{`id="backends"`}},
		{name: "pages without the widget do not load its CSS", method: "GET", url: "/import", wantStatus: 200,
			notWant: []string{"editor/css/"}},
		{name: "the logo is drawn in the page, not loaded as an image", method: "GET", url: "/export", wantStatus: 200,
			want:    []string{`<a class="logo" href="welcome" title="Label Studio"><svg aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">`},
			notWant: []string{`<img src="static/app/favicon.svg`}},
	})
}

// TestLabelingStreamFirstTask: the stream page carries the task that
// GET /api/project/next answers, says when none is left, and leaves the
// request to the page when ML backends would have to predict first.
func TestLabelingStreamFirstTask(t *testing.T) {
	s, st := newTestServer(t)
	importTexts(t, s, "a", "b")
	page := func() map[string]any {
		t.Helper()
		r := call(t, s, "GET", "/", "", "")
		if r.status != 200 {
			t.Fatalf("GET /: %d %s", r.status, r.body)
		}
		return pageJSON(t, r.body)
	}
	next := callJSON(t, s, "GET", "/api/project/next", "")
	if got := page()["firstTask"]; got != next.body {
		t.Fatalf("firstTask %v, want the body of api/project/next %s", got, next.body)
	}
	for _, id := range []int{0, 1} {
		if r := callJSON(t, s, "POST", fmt.Sprintf("/api/tasks/%d/completions", id), `{"lead_time":1,"result":[]}`); r.status != 201 {
			t.Fatalf("completion: %d %s", r.status, r.body)
		}
	}
	if p := page(); p["firstTask"] != nil || p["noTaskLeft"] != true {
		t.Fatalf("every task done: firstTask %v, noTaskLeft %v", p["firstTask"], p["noTaskLeft"])
	}
	importTexts(t, s, "c")
	setBackends(t, st, store.MLBackend{Name: "m", URL: "http://127.0.0.1:1"})
	if p := page(); p["firstTask"] != nil || p["noTaskLeft"] != false {
		t.Fatalf("with an ML backend: firstTask %v, noTaskLeft %v", p["firstTask"], p["noTaskLeft"])
	}
}

// pageJSON decodes the LS_PAGE values of a rendered page.
func pageJSON(t *testing.T, body string) map[string]any {
	t.Helper()
	const start = "window.LS_PAGE = JSON.parse("
	i := strings.Index(body, start)
	if i < 0 {
		t.Fatalf("no LS_PAGE in the page:\n%s", body)
	}
	rest := body[i+len(start):]
	end := strings.Index(rest, ");\n")
	if end < 0 {
		t.Fatalf("LS_PAGE does not end")
	}
	var text string
	if err := json.Unmarshal([]byte(rest[:end]), &text); err != nil {
		t.Fatalf("LS_PAGE is not a string literal: %v\n%s", err, rest[:end])
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("LS_PAGE is not JSON: %v\n%s", err, text)
	}
	return out
}

func TestWelcomeStates(t *testing.T) {
	s, _ := newTestServer(t)
	r := call(t, s, "GET", "/welcome", "", "")
	if n := strings.Count(r.body, `<li class="done"`); n != 0 {
		t.Fatalf("new project: %d steps done", n)
	}
	seedCompleted(t, s)
	r = call(t, s, "GET", "/welcome", "", "")
	// Import and labeling are done; the config was never saved.
	if n := strings.Count(r.body, `<li class="done"`); n != 2 {
		t.Fatalf("after import and a completion: %d steps done\n%s", n, r.body)
	}
	if cr := call(t, s, "POST", "/api/project/config", "application/x-www-form-urlencoded", "label_config="+url.QueryEscape(textConfig)); cr.status != 201 {
		t.Fatalf("save config: %d %s", cr.status, cr.body)
	}
	r = call(t, s, "GET", "/welcome", "", "")
	if n := strings.Count(r.body, `<li class="done"`); n != 3 {
		t.Fatalf("after saving the config: %d steps done", n)
	}
}

// TestPageEscaping: instruction, config and task data reach the page as
// JavaScript string values; nothing in them can end the script element.
func TestPageEscaping(t *testing.T) {
	s, st := newTestServer(t)
	evil := "</script><script>alert(1)</script>`${x}`"
	if _, err := st.UpdateSettings("test", func(set *store.Settings) error {
		set.Instruction = evil
		set.Title = "<b>My & project</b>"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	importTexts(t, s, evil)
	for _, u := range []string{"/", "/?task_id=0"} {
		r := call(t, s, "GET", u, "", "")
		if r.status != 200 {
			t.Fatalf("%s: %d", u, r.status)
		}
		if strings.Contains(r.body, "<script>alert(1)") {
			t.Errorf("%s: the instruction or task ends the script element:\n%s", u, r.body)
		}
		if !strings.Contains(r.body, `\u003c/script\u003e`) {
			t.Errorf("%s: the escaped instruction is missing", u)
		}
		if !strings.Contains(r.body, "<title>&lt;b&gt;My &amp; project&lt;/b&gt;</title>") {
			t.Errorf("%s: the title is not escaped", u)
		}
	}
}

func TestProjectLoadingErrorPage(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := New(st, Options{Project: "missing"})
	for _, u := range []string{"/", "/tasks", "/setup", "/welcome"} {
		r := call(t, s, "GET", u, "", "")
		if r.status < 400 || !strings.Contains(r.body, "Project loading error") || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", u, r.status, r.body)
		}
	}
}

func TestRenderLabelStudio(t *testing.T) {
	cfg := `<View><Image name="image" value="$image"/>` + "\n" +
		`<!-- a comment --><RectangleLabels name="label" toName="image"><Label value="Cat"/><Label value="Dog"/></RectangleLabels></View>`
	form := "application/x-www-form-urlencoded"
	runScenarios(t, []scenario{
		{name: "no config", method: "GET", url: "/render-label-studio", wantStatus: 417, want: []string{"No config in POST"},
			wantHeader: map[string]string{"Content-Type": "text/plain"}},
		{name: "empty form config", method: "POST", url: "/render-label-studio", contentType: form, body: "config=", wantStatus: 417,
			want: []string{"No config in POST"}},
		{name: "form config", method: "POST", url: "/render-label-studio", contentType: form,
			body: "config=" + url.QueryEscape(cfg) + "&current_template_name=x", wantStatus: 200,
			want: []string{"new window.LabelStudio", `\"id\":42`, `\"project\":1`, `static/samples/sample.jpg`, `'basic', 'side-column', 'predictions'`,
				`\u003cLabel value=\"Dog\"/\u003e`},
			notWant:    []string{"a comment", `\n\u003cRectangleLabels`},
			wantHeader: map[string]string{"Content-Type": "text/html"}},
		{name: "query config is percent-decoded once more", method: "GET",
			url: "/render-label-studio?config=" + url.QueryEscape(url.PathEscape(cfg)), wantStatus: 200, want: []string{`\u003cLabel value=\"Cat\"/\u003e`}},
		{name: "query before form", method: "POST", url: "/render-label-studio?config=" + url.QueryEscape(cfg), contentType: form,
			body: "config=nonsense", wantStatus: 200, want: []string{"Cat"}},
		{name: "invalid config", method: "POST", url: "/render-label-studio", contentType: form, body: "config=" + url.QueryEscape("<View><Image"), wantStatus: 400,
			want: []string{"Invalid labeling config"}},
		{name: "deprecated alias", method: "POST", url: "/api/render-label-studio", contentType: form, body: "config=" + url.QueryEscape(cfg), wantStatus: 200,
			want: []string{"new window.LabelStudio"}},
		{name: "config comment sets the preview task", method: "POST", url: "/render-label-studio", contentType: form,
			body:       "config=" + url.QueryEscape(`<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="A"/><Choice value="B"/></Choices></View><!-- {"data": {"text": "from the comment"}} -->`),
			wantStatus: 200, want: []string{"from the comment"}},
	})
}

func TestPercentDecode(t *testing.T) {
	for in, want := range map[string]string{
		"plain":           "plain",
		"a%20b":           "a b",
		"a+b":             "a+b",
		`width="100%"`:    `width="100%"`,
		"%zz%4":           "%zz%4",
		"%3Cview%3e%2525": "<view>%25",
	} {
		if got := percentDecode(in); got != want {
			t.Errorf("percentDecode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	s, _ := newTestServer(t)
	r := call(t, s, "GET", "/static/app/app.css", "", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") {
		t.Fatalf("app.css: %d %q", r.status, r.header.Get("Content-Type"))
	}
	etag := r.header.Get("ETag")
	if etag == "" || r.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("headers: %v", r.header)
	}
	req := httptest.NewRequest("GET", "/static/app/app.css", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err := s.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 304 {
		t.Fatalf("revalidation: %d, want 304", resp.StatusCode)
	}
	r = call(t, s, "GET", "/static/app/common.js?v=abc", "", "")
	if r.status != 200 || !strings.Contains(r.header.Get("Cache-Control"), "immutable") || !strings.Contains(r.header.Get("Content-Type"), "javascript") {
		t.Fatalf("versioned: %d %v", r.status, r.header)
	}
	req = httptest.NewRequest("GET", "/static/app/app.css", nil)
	req.Header.Set("Range", "bytes=0-9")
	resp, err = s.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 206 || resp.ContentLength != 10 {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, resp.ContentLength)
	}
	if r := call(t, s, "GET", "/static/app/nothing.js", "", ""); r.status != 404 || !strings.Contains(r.body, `"detail"`) {
		t.Fatalf("missing static file: %d %s", r.status, r.body)
	}
	if r := call(t, s, "GET", "/static/../go.mod", "", ""); r.status != 404 {
		t.Fatalf("escape: %d", r.status)
	}
	// Root-level paths fall back to the static folder (api.md §0.1).
	if r := call(t, s, "GET", "/app/favicon.svg", "", ""); r.status != 200 || !strings.Contains(r.body, "<svg") {
		t.Fatalf("root fallback: %d", r.status)
	}
	if r := call(t, s, "GET", "/no/such/file", "", ""); r.status != 404 {
		t.Fatalf("unknown path: %d", r.status)
	}
	// The fallback answers GET only: other methods keep 404.
	if r := call(t, s, "POST", "/no/such/file", "", ""); r.status != 404 {
		t.Fatalf("POST to an unknown path: %d", r.status)
	}
	if r := call(t, s, "DELETE", "/app/favicon.svg", "", ""); r.status != 404 {
		t.Fatalf("DELETE of a static file: %d", r.status)
	}
}

func TestBundleURLsAndVersion(t *testing.T) {
	s, _ := newTestServer(t)
	importTexts(t, s, "a")
	r := call(t, s, "GET", "/", "", "")
	if !frontend.BundleBuilt() {
		if !strings.Contains(r.body, "make frontend") {
			t.Fatalf("without the bundle the page must say how to build it:\n%s", r.body)
		}
		t.Skip("the widget bundle is not built")
	}
	for _, want := range []string{`static/editor/css/main.lean.css?v=`, `static/editor/js/main.labeling.js?v=`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, notWant := range []string{`static/editor/js/main.js`, `static/app/labeling.js`, `static/editor/css/main.css`} {
		if strings.Contains(r.body, notWant) {
			t.Errorf("page loads %s: its derived file has it", notWant)
		}
	}
	if b := call(t, s, "GET", "/static/editor/js/main.labeling.js?v=1", "", ""); b.status != 200 || b.body != string(frontend.LabelingBundle()) ||
		!strings.Contains(b.header.Get("Content-Type"), "javascript") || !strings.Contains(b.header.Get("Cache-Control"), "immutable") {
		t.Fatalf("main.labeling.js: %d, %d bytes, %v", b.status, len(b.body), b.header)
	}
	js := call(t, s, "GET", "/static/editor/js/main.js", "", "")
	if js.status != 200 || len(js.body) < frontend.MinBundleSize || !strings.Contains(js.header.Get("Content-Type"), "javascript") {
		t.Fatalf("main.js: %d, %d bytes, %s", js.status, len(js.body), js.header.Get("Content-Type"))
	}
	// The published stylesheet is served as it is; the pages use its lean copy.
	published, err := fs.ReadFile(frontend.Static(), frontend.EditorCSS)
	if err != nil {
		t.Fatal(err)
	}
	if css := call(t, s, "GET", "/static/editor/css/main.css", "", ""); css.status != 200 || css.body != string(published) {
		t.Fatalf("main.css: %d, %d bytes, want the %d published ones", css.status, len(css.body), len(published))
	}
	lean := call(t, s, "GET", "/static/editor/css/main.lean.css?v=1", "", "")
	if lean.status != 200 || lean.body != string(frontend.LeanEditorCSS()) || !strings.HasPrefix(lean.header.Get("Content-Type"), "text/css") ||
		!strings.Contains(lean.header.Get("Cache-Control"), "immutable") || lean.header.Get("ETag") == "" {
		t.Fatalf("main.lean.css: %d, %d bytes, %v", lean.status, len(lean.body), lean.header)
	}
	if r := call(t, s, "GET", "/editor/css/main.lean.css", "", ""); r.status != 200 || r.body != lean.body {
		t.Fatalf("main.lean.css at the root: %d", r.status)
	}
	v := call(t, s, "GET", "/version", "", "")
	if !strings.Contains(v.body, "808858fe9cc17d372a89b1031c3e2e12e06ba1f3") {
		t.Fatalf("/version: %s", v.body)
	}
}

func TestPagesNeedAuthButStaticFilesDoNot(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateProject("test", store.DefaultSettings(), textConfig); err != nil {
		t.Fatal(err)
	}
	s := New(st, Options{Project: "test", Password: "secret"})
	if r := call(t, s, "GET", "/tasks", "", ""); r.status != 401 {
		t.Fatalf("page without credentials: %d", r.status)
	}
	if r := call(t, s, "GET", "/static/app/app.css", "", ""); r.status != 200 {
		t.Fatalf("static file without credentials: %d", r.status)
	}
}
