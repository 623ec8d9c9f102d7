package server

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/server/importer"
	"labelstudio/store"
)

const (
	imageConfig    = `<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="a"/></Choices></View>`
	audioConfig    = `<View><Audio name="audio" value="$audio"/><Choices name="c" toName="audio"><Choice value="a"/></Choices></View>`
	twoKeyConfig   = `<View><Text name="t1" value="$text1"/><Text name="t2" value="$text2"/><Choices name="c" toName="t1"><Choice value="a"/></Choices></View>`
	timeSeriesConf = `<View><TimeSeries name="ts" value="$csv" valueType="url"><Channel column="one"/></TimeSeries></View>`
)

// importEnv is a server with an upload folder, over a store whose project
// "test" has the given labeling config.
type importEnv struct {
	s      *Server
	st     *store.Store
	upload string
}

func newImportEnv(t testing.TB, config string, opts Options) importEnv {
	t.Helper()
	s, st := newTestServer(t)
	if config != "" && config != textConfig {
		if err := st.SetLabelConfig("test", config, nil); err != nil {
			t.Fatal(err)
		}
	}
	opts.Project = "test"
	if opts.UploadDir == "" {
		opts.UploadDir = t.TempDir()
	}
	s = New(st, opts)
	return importEnv{s: s, st: st, upload: opts.UploadDir}
}

func (e importEnv) taskCount(t testing.TB) int64 {
	t.Helper()
	p, err := e.st.Project("test")
	if err != nil {
		t.Fatal(err)
	}
	return p.Counters.Tasks
}

// uploads lists the files of the project's upload folder.
func (e importEnv) uploads(t testing.TB) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(e.upload, "test"))
	var out []string
	for _, en := range entries {
		out = append(out, en.Name())
	}
	return out
}

// taskData returns the data of a stored task.
func (e importEnv) taskData(t testing.TB, id int64) map[string]any {
	t.Helper()
	r := call(t, e.s, "GET", fmt.Sprintf("/api/tasks/%d", id), "", "")
	if r.status != 200 {
		t.Fatalf("task %d: %d %s", id, r.status, r.body)
	}
	var task struct {
		Data map[string]any `json:"data"`
	}
	r.json(t, &task)
	return task.Data
}

type upload struct {
	name string
	body []byte
}

func testFile(t testing.TB, name string) upload {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "import", name))
	if err != nil {
		t.Fatal(err)
	}
	return upload{name: name, body: b}
}

// multipartBody builds an upload as the import page sends it: each file
// with field name = file name.
func multipartBody(t testing.TB, files ...upload) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range files {
		fw, err := w.CreateFormFile(f.name, f.name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(f.body)
	}
	w.Close()
	return w.FormDataContentType(), b.Bytes()
}

func (e importEnv) upload1(t testing.TB, url string, files ...upload) response {
	t.Helper()
	ct, body := multipartBody(t, files...)
	return call(t, e.s, "POST", url, ct, string(body))
}

type importAnswer struct {
	TaskCount   int            `json:"task_count"`
	Completions int            `json:"completion_count"`
	Predictions int            `json:"prediction_count"`
	Formats     map[string]int `json:"formats"`
	IDs         []int64        `json:"new_task_ids"`
	Skipped     *int           `json:"skipped_duplicates"`
}

func mustImport(t testing.TB, r response) importAnswer {
	t.Helper()
	if r.status != 201 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	var a importAnswer
	r.json(t, &a)
	return a
}

func TestImportFileKinds(t *testing.T) {
	rows := []struct {
		file    string
		tasks   int
		formats map[string]int
		check   func(t *testing.T, e importEnv, a importAnswer)
	}{
		{file: "tasks.json", tasks: 3, formats: map[string]int{".json": 1}, check: func(t *testing.T, e importEnv, a importAnswer) {
			if a.Predictions != 1 {
				t.Errorf("predictions %d", a.Predictions)
			}
			if d := e.taskData(t, 1); d["text"] != "second" {
				t.Errorf("task 1: %v", d)
			}
		}},
		{file: "texts.csv", tasks: 3, formats: map[string]int{".csv": 1}, check: func(t *testing.T, e importEnv, a importAnswer) {
			d := e.taskData(t, 0)
			// score has an empty cell: pandas makes it a float column.
			if d["text"] != "Hello, world" || d["score"] != 1.0 || d["label"] != "yes" {
				t.Errorf("row 0: %#v", d)
			}
			if d := e.taskData(t, 2); d["text"] != "multi\nline \"quoted\"" || d["score"] != "" {
				t.Errorf("row 2: %#v", d)
			}
			r := call(t, e.s, "GET", "/api/tasks/0", "", "")
			if !strings.Contains(r.body, `"score":1.0`) {
				t.Errorf("score is not written as the float 1.0: %s", r.body)
			}
		}},
		{file: "texts.tsv", tasks: 2, formats: map[string]int{".tsv": 1}, check: func(t *testing.T, e importEnv, a importAnswer) {
			if d := e.taskData(t, 1); d["text"] != "world" || d["score"] != 2.0 {
				t.Errorf("row 1: %#v", d)
			}
		}},
		{file: "lines.txt", tasks: 4, formats: map[string]int{".txt": 1}, check: func(t *testing.T, e importEnv, a importAnswer) {
			if d := e.taskData(t, 2); d["text"] != "" || len(d) != 1 {
				t.Errorf("empty line: %#v", d)
			}
			if d := e.taskData(t, 3); d["text"] != "fourth line" {
				t.Errorf("last line: %#v", d)
			}
		}},
		{file: "page.html", tasks: 1, formats: map[string]int{".html": 1}, check: func(t *testing.T, e importEnv, a importAnswer) {
			if d := e.taskData(t, 0); d["text"] != "<html><body><h1>Title</h1><p>Some text</p></body></html>" {
				t.Errorf("page: %#v", d)
			}
		}},
		{file: "archive.zip", tasks: 4, formats: map[string]int{".json": 1, ".csv": 1, ".txt": 1}, check: func(t *testing.T, e importEnv, a importAnswer) {
			var texts []string
			for _, id := range a.IDs {
				texts = append(texts, fmt.Sprint(e.taskData(t, id)["text"]))
			}
			if strings.Join(texts, "|") != "zipped json|zipped csv|zipped line 1|zipped line 2" {
				t.Errorf("archive tasks: %q", texts)
			}
		}},
	}
	for _, r := range rows {
		t.Run(r.file, func(t *testing.T) {
			e := newImportEnv(t, textConfig, Options{})
			a := mustImport(t, e.upload1(t, "/api/project/import", testFile(t, r.file)))
			if a.TaskCount != r.tasks || len(a.IDs) != r.tasks || int(e.taskCount(t)) != r.tasks {
				t.Fatalf("tasks: answer %d, ids %d, stored %d; want %d", a.TaskCount, len(a.IDs), e.taskCount(t), r.tasks)
			}
			if fmt.Sprint(a.Formats) != fmt.Sprint(r.formats) {
				t.Errorf("formats %v, want %v", a.Formats, r.formats)
			}
			if a.Skipped != nil {
				t.Errorf("skipped_duplicates without skip_duplicates")
			}
			r.check(t, e, a)
		})
	}
}

func TestImportSeveralFilesAndUpperCase(t *testing.T) {
	e := newImportEnv(t, textConfig, Options{})
	lines := testFile(t, "lines.txt")
	lines.name = "LINES.TXT"
	a := mustImport(t, e.upload1(t, "/api/import", testFile(t, "tasks.json"), lines, testFile(t, "texts.csv")))
	if a.TaskCount != 10 || a.Formats[".json"] != 1 || a.Formats[".txt"] != 1 || a.Formats[".csv"] != 1 {
		t.Fatalf("%+v", a)
	}
	if fmt.Sprint(a.IDs[:4]) != "[0 1 2 3]" {
		t.Fatalf("ids %v", a.IDs)
	}
}

func TestImportMediaUpload(t *testing.T) {
	e := newImportEnv(t, imageConfig, Options{})
	png := testFile(t, "pixel.png")
	a := mustImport(t, e.upload1(t, "/api/project/import", png))
	if a.Formats[".png"] != 1 || a.TaskCount != 1 {
		t.Fatalf("%+v", a)
	}
	url, _ := e.taskData(t, 0)["image"].(string)
	if !strings.HasPrefix(url, "/data/upload/") || !strings.HasSuffix(url, "-pixel.png") || len(url) != len("/data/upload/")+32+len("-pixel.png") {
		t.Fatalf("image url %q", url)
	}
	r := call(t, e.s, "GET", url, "", "")
	if r.status != 200 || r.body != string(png.body) || r.header.Get("Content-Type") != "image/png" ||
		!strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("GET %s: %d %v", url, r.status, r.header)
	}
	// Deprecated alias: raw bytes.
	r = call(t, e.s, "GET", strings.Replace(url, "/data/upload/", "/upload/", 1), "", "")
	if r.status != 200 || r.body != string(png.body) || r.header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("alias: %d %v", r.status, r.header)
	}
	// The same content again is stored once; another name is another file.
	mustImport(t, e.upload1(t, "/api/project/import", png))
	other := png
	other.name = "copy.PNG"
	mustImport(t, e.upload1(t, "/api/project/import", other))
	if files := e.uploads(t); len(files) != 2 {
		t.Fatalf("upload folder: %q", files)
	}
	// Audio, upper-case extension, and a zip of media.
	ea := newImportEnv(t, audioConfig, Options{})
	a = mustImport(t, ea.upload1(t, "/api/project/import", testFile(t, "beep.WAV"), testFile(t, "media.zip")))
	if a.TaskCount != 3 || a.Formats[".wav"] != 2 || a.Formats[".png"] != 1 {
		t.Fatalf("%+v", a)
	}
	if u := ea.taskData(t, 0)["audio"].(string); !strings.HasSuffix(u, "-beep.WAV") {
		t.Fatalf("audio url %q", u)
	}
	r = call(t, ea.s, "GET", ea.taskData(t, 0)["audio"].(string), "", "")
	if r.header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("wav type %q", r.header.Get("Content-Type"))
	}
}

func TestImportTimeSeriesCSVIsHosted(t *testing.T) {
	e := newImportEnv(t, timeSeriesConf, Options{})
	a := mustImport(t, e.upload1(t, "/api/project/import", upload{name: "series.csv", body: []byte("time,one\n1,2\n2,3\n")}))
	if a.TaskCount != 1 || !strings.HasSuffix(e.taskData(t, 0)["csv"].(string), "-series.csv") {
		t.Fatalf("%+v %v", a, e.taskData(t, 0))
	}
}

func TestImportFileErrors(t *testing.T) {
	small := Options{Import: ImportLimits{Files: importer.Limits{MaxArchiveEntrySize: 1 << 16, MaxArchiveTotalSize: 3 << 15, MaxArchiveEntries: 20}}}
	big := strings.Repeat("x", 1<<16) // 64 KiB in one line, compresses to almost nothing
	var manyEntries []zipEntry
	for i := 0; i < 25; i++ {
		manyEntries = append(manyEntries, zipEntry{fmt.Sprintf("t%d.txt", i), "x"})
	}
	rows := []struct {
		name   string
		config string
		opts   Options
		files  []upload
		want   []string
	}{
		{"bad CSV quoting", textConfig, Options{}, []upload{testFile(t, "bad_quote.csv")}, []string{`Failed to parse input file bad_quote.csv: record on line 2; parse error on line 3`}},
		{"missing required key", textConfig, Options{}, []upload{testFile(t, "missing_key.json")}, []string{`Error   at item 1: \"text\" key is expected in task data`, ` :: {\"title\"`}},
		{"not UTF-8", textConfig, Options{}, []upload{testFile(t, "latin1.txt")}, []string{`Failed to parse input file latin1.txt: line 1: the text is not valid UTF-8`}},
		{"empty file", textConfig, Options{}, []upload{testFile(t, "empty.json")}, []string{`Failed to parse input file empty.json: the file is empty`}},
		{"null", textConfig, Options{}, []upload{testFile(t, "null.json")}, []string{`null in null.json is not allowed`}},
		{"unknown extension, two keys", twoKeyConfig, Options{}, []upload{{name: "doc.pdf", body: []byte("%PDF")}}, []string{`direct file upload supports only one data key`}},
		{"rar", textConfig, Options{}, []upload{{name: "a.rar", body: []byte("Rar!")}}, []string{`RAR archives are not supported`}},
		{"valid file then a bad one", textConfig, Options{}, []upload{testFile(t, "tasks.json"), testFile(t, "bad_quote.csv")}, []string{`bad_quote.csv`}},
		{"oversized zip entry", textConfig, small, []upload{{name: "big.zip", body: zipOf(t, zipEntry{"ok.txt", "fine"}, zipEntry{"big.txt", big + "x"})}}, []string{`entry big.txt is larger than the limit of 64 KiB per entry`}},
		{"zip bomb", textConfig, small, []upload{{name: "bomb.zip", body: zipOf(t, zipEntry{"a.txt", big}, zipEntry{"b.txt", big})}}, []string{`unpack to more than the limit of 96 KiB in total`}},
		{"too many zip entries", textConfig, small, []upload{{name: "many.zip", body: zipOf(t, manyEntries...)}}, []string{`more than 20 entries`}},
		{"media without upload folder", imageConfig, Options{UploadDir: "-"}, []upload{testFile(t, "pixel.png")}, []string{`media files cannot be imported`}},
		{"too many tasks", textConfig, Options{Import: ImportLimits{MaxTasks: 2}}, []upload{testFile(t, "tasks.json")}, []string{`Maximum task number is 2, current task number is 3`}},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e := newImportEnv(t, r.config, r.opts)
			if r.opts.UploadDir == "-" {
				e.s.opts.UploadDir = ""
			}
			before := e.taskCount(t)
			// One task before, so that "nothing stored" is checked against
			// an existing project state.
			if r.config == textConfig {
				importTexts(t, e.s, "kept")
				before++
			}
			resp := e.upload1(t, "/api/project/import", r.files...)
			if resp.status != 400 {
				t.Fatalf("status %d: %s", resp.status, resp.body)
			}
			var msgs []string
			resp.json(t, &msgs)
			for _, w := range r.want {
				if !strings.Contains(resp.body, w) {
					t.Errorf("answer lacks %q: %s", w, resp.body)
				}
			}
			if n := e.taskCount(t); n != before {
				t.Errorf("tasks after a refused import: %d, want %d", n, before)
			}
			if files := e.uploads(t); len(files) != 0 {
				t.Errorf("uploads left behind: %q", files)
			}
		})
	}
}

type zipEntry struct{ name, body string }

func zipOf(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.body)
	}
	zw.Close()
	return b.Bytes()
}

func TestImportMediaRolledBackWithTheImport(t *testing.T) {
	e := newImportEnv(t, imageConfig, Options{})
	// A valid image, then an item that misses the key: nothing stays.
	r := e.upload1(t, "/api/project/import", testFile(t, "pixel.png"), upload{name: "bad.json", body: []byte(`[{"other":"x"}]`)})
	if r.status != 400 || e.taskCount(t) != 0 || len(e.uploads(t)) != 0 {
		t.Fatalf("%d %s; tasks %d; uploads %q", r.status, r.body, e.taskCount(t), e.uploads(t))
	}
	// A file that an earlier import keeps is not removed by a failed one.
	mustImport(t, e.upload1(t, "/api/project/import", testFile(t, "pixel.png")))
	e.upload1(t, "/api/project/import", testFile(t, "pixel.png"), upload{name: "bad.json", body: []byte(`[{"other":"x"}]`)})
	if files := e.uploads(t); len(files) != 1 {
		t.Fatalf("uploads %q", files)
	}
}

func TestImportSkipDuplicates(t *testing.T) {
	e := newImportEnv(t, textConfig, Options{})
	body := string(testFile(t, "tasks.json").body)
	a := mustImport(t, callJSON(t, e.s, "POST", "/api/project/import?skip_duplicates=true", body))
	if a.TaskCount != 3 || a.Skipped == nil || *a.Skipped != 0 {
		t.Fatalf("first: %+v", a)
	}
	a = mustImport(t, callJSON(t, e.s, "POST", "/api/project/import?skip_duplicates=true", body))
	if a.TaskCount != 0 || len(a.IDs) != 0 || *a.Skipped != 3 || e.taskCount(t) != 3 {
		t.Fatalf("again: %+v, stored %d", a, e.taskCount(t))
	}
	// Within one upload too; without the flag duplicates are stored.
	a = mustImport(t, e.upload1(t, "/api/project/import?skip_duplicates=1", upload{"d.json", []byte(`[{"text":"new"},{"text":"new"},{"text":"first"}]`)}))
	if a.TaskCount != 1 || *a.Skipped != 2 {
		t.Fatalf("in one file: %+v", a)
	}
	a = mustImport(t, callJSON(t, e.s, "POST", "/api/project/import", body))
	if a.TaskCount != 3 {
		t.Fatalf("without the flag: %+v", a)
	}
}

func TestImportURL(t *testing.T) {
	files := map[string]struct {
		ctype string
		body  []byte
	}{
		"/tasks.json":    {"application/json", testFile(t, "tasks.json").body},
		"/export":        {"text/csv; charset=utf-8", testFile(t, "texts.csv").body},
		"/img/pixel.png": {"image/png", testFile(t, "pixel.png").body},
		"/big.txt":       {"text/plain", bytes.Repeat([]byte("line\n"), 1000)},
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow.json" {
			time.Sleep(300 * time.Millisecond)
		}
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.ctype)
		w.Write(f.body)
	}))
	defer ts.Close()
	form := "application/x-www-form-urlencoded"
	e := newImportEnv(t, textConfig, Options{Import: ImportLimits{DownloadLimit: 4000, DownloadTimeout: 150 * time.Millisecond}})
	a := mustImport(t, call(t, e.s, "POST", "/api/project/import", form, "url="+ts.URL+"/tasks.json"))
	if a.TaskCount != 3 || a.Formats[".json"] != 1 {
		t.Fatalf("json: %+v", a)
	}
	a = mustImport(t, call(t, e.s, "POST", "/api/project/import", form, "url="+ts.URL+"/export"))
	if a.TaskCount != 3 || a.Formats[".csv"] != 1 {
		t.Fatalf("csv without extension: %+v", a)
	}
	// A url field in a multipart form without files.
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("url", ts.URL+"/tasks.json")
	mw.Close()
	mustImport(t, call(t, e.s, "POST", "/api/project/import", mw.FormDataContentType(), b.String()))

	ei := newImportEnv(t, imageConfig, Options{})
	mustImport(t, call(t, ei.s, "POST", "/api/project/import", form, "url="+ts.URL+"/img/pixel.png"))
	if u := ei.taskData(t, 0)["image"].(string); !strings.HasSuffix(u, "-pixel.png") {
		t.Fatalf("media url %q", u)
	}

	before := e.taskCount(t)
	for url, want := range map[string]string{
		ts.URL + "/missing.json":             "Failed to download " + ts.URL + "/missing.json: the server answered 404 Not Found",
		"ftp://example.invalid/x.json":       "the url must be an http:// or https:// address",
		"file:///etc/passwd":                 "the url must be an http:// or https:// address",
		ts.URL + "/big.txt":                  "larger than the limit of 4000 bytes",
		ts.URL + "/slow.json":                "Failed to download " + ts.URL + "/slow.json: no answer within 150ms",
		"http://127.0.0.1:1/nothing-listens": "Failed to download http://127.0.0.1:1/nothing-listens",
	} {
		r := call(t, e.s, "POST", "/api/project/import", form, "url="+url)
		if r.status != 400 || !strings.Contains(r.body, want) || !strings.HasPrefix(r.body, "[") {
			t.Errorf("%s: %d %s, want %q", url, r.status, r.body, want)
		}
	}
	if e.taskCount(t) != before {
		t.Fatalf("a failed download stored tasks")
	}
}

// TestImportStreamsChunks sends a JSON array of more tasks than one store
// chunk over a real connection, without Content-Length, then the same with
// one bad item at the end: nothing of it may stay.
func TestImportStreamsChunks(t *testing.T) {
	e := newImportEnv(t, textConfig, Options{})
	addr := listen(t, e.s)
	const n = importChunkTasks*2 + 500
	gen := func(bad bool) io.Reader {
		pr, pw := io.Pipe()
		go func() {
			pw.Write([]byte("["))
			for i := 0; i < n; i++ {
				if i > 0 {
					pw.Write([]byte(","))
				}
				if bad && i == n-1 {
					pw.Write([]byte(`{"wrong":1}`))
					continue
				}
				fmt.Fprintf(pw, `{"text":"task %d"}`, i)
			}
			pw.Write([]byte("]"))
			pw.Close()
		}()
		return pr
	}
	post := func(body io.Reader) (int, string) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/project/import", body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := post(gen(false))
	if status != 201 || e.taskCount(t) != n {
		t.Fatalf("%d %.300s; stored %d", status, body, e.taskCount(t))
	}
	status, body = post(gen(true))
	if status != 400 || !strings.Contains(body, fmt.Sprintf("Error   at item %d:", n-1)) || e.taskCount(t) != n {
		t.Fatalf("%d %.300s; stored %d", status, body, e.taskCount(t))
	}
	// The next import after the aborted one continues the ids.
	if ids := importTexts(t, e.s, "after"); ids[0] != n {
		t.Fatalf("next id %d, want %d", ids[0], n)
	}
}

func listen(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.App().Listener(ln)
	t.Cleanup(func() { s.Shutdown(time.Second) })
	return ln.Addr().String()
}

func TestImportBodyLimitWhileStreaming(t *testing.T) {
	e := newImportEnv(t, textConfig, Options{Import: ImportLimits{BodyLimit: 64 << 10}})
	addr := listen(t, e.s)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("["))
		for i := 0; i < 10000; i++ {
			fmt.Fprintf(pw, `{"text":"task %d"},`, i)
		}
		pw.Write([]byte(`{"text":"end"}]`))
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/project/import", pr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), "64 KiB for imports") || e.taskCount(t) != 0 {
		t.Fatalf("%d %s; stored %d", resp.StatusCode, b, e.taskCount(t))
	}
	// The server still answers on new connections.
	if r := call(t, e.s, "GET", "/api/health", "", ""); r.status != 200 {
		t.Fatal(r.status)
	}
}

func TestImportJSONBodyStillChecked(t *testing.T) {
	e := newImportEnv(t, textConfig, Options{})
	for body, want := range map[string]string{
		"\ufeff[{\"text\":\"bom\"}]": "",
		`  {"text":"one"}  `:         "",
		`[{"text":"a"}] trailing`:    `load_tasks: request body is not valid JSON: near byte`,
		`[{"text":"a"},]`:            `trailing commas`,
		"[\"\xff\"]":                 `not valid UTF-8`,
		` { } `:                      `["load_tasks: No tasks added"]`,
		`null`:                       `No data found in DATA or in FILES`,
	} {
		r := callJSON(t, e.s, "POST", "/api/project/import", body)
		if want == "" {
			mustImport(t, r)
			continue
		}
		if r.status != 400 || !strings.Contains(r.body, want) {
			t.Errorf("%q: %d %s, want %q", body, r.status, r.body, want)
		}
	}
}

// TestImportFixtures imports the 0.8.1 test data when it is present.
func TestImportFixtures(t *testing.T) {
	root := "/work/shared/fixtures/ls081"
	if _, err := os.Stat(root); err != nil {
		t.Skip("no 0.8.1 fixtures here")
	}
	examples, _ := filepath.Glob(filepath.Join(root, "examples", "*", "tasks.json"))
	for _, tasks := range examples {
		name := filepath.Base(filepath.Dir(tasks))
		t.Run(name, func(t *testing.T) {
			cfg, err := os.ReadFile(filepath.Join(filepath.Dir(tasks), "config.xml"))
			if err != nil {
				t.Skip(err)
			}
			e := newImportEnv(t, string(cfg), Options{})
			b, _ := os.ReadFile(tasks)
			var list []json.RawMessage
			json.Unmarshal(b, &list)
			r := e.upload1(t, "/api/project/import", upload{"tasks.json", b})
			if r.status == 400 {
				// Some upstream examples do not match their own config
				// (0.8.1 refuses them too): every message must then be an
				// item error, and nothing stored.
				var msgs []string
				r.json(t, &msgs)
				for _, m := range msgs {
					if !strings.HasPrefix(m, "Error   at item ") && m != "..." {
						t.Fatalf("not an item error: %q", m)
					}
				}
				if e.taskCount(t) != 0 {
					t.Fatal("a refused import stored tasks")
				}
				t.Logf("refused as in 0.8.1: %.120s", msgs[0])
				return
			}
			a := mustImport(t, r)
			if a.TaskCount != len(list) {
				t.Fatalf("%d tasks, the file has %d", a.TaskCount, len(list))
			}
		})
	}
	samples := filepath.Join(root, "samples")
	read := func(n string) upload {
		b, err := os.ReadFile(filepath.Join(samples, n))
		if err != nil {
			t.Skip(err)
		}
		return upload{n, b}
	}
	e := newImportEnv(t, textConfig, Options{})
	a := mustImport(t, e.upload1(t, "/api/project/import", read("lorem_ipsum.txt")))
	if a.TaskCount != 4 {
		t.Fatalf("lorem_ipsum.txt (4 lines): %+v", a)
	}
	ei := newImportEnv(t, imageConfig, Options{})
	a = mustImport(t, ei.upload1(t, "/api/project/import", read("kittens.jpg"), read("sample.jpg"), read("sample-a.jpg")))
	if a.TaskCount != 3 || a.Formats[".jpg"] != 3 {
		t.Fatalf("jpgs: %+v", a)
	}
	ets := newImportEnv(t, timeSeriesConf, Options{})
	a = mustImport(t, ets.upload1(t, "/api/project/import", read("sample-task-sin.csv")))
	if a.TaskCount != 1 {
		t.Fatalf("time series csv: %+v", a)
	}
	// The time-series CSV as a table: one task per row, numbers typed.
	et := newImportEnv(t, `<View><Header value="$time"/><Text name="t" value="$one"/><Choices name="c" toName="t"><Choice value="a"/></Choices></View>`, Options{})
	a = mustImport(t, et.upload1(t, "/api/project/import", read("sample-task-sin.csv")))
	if a.TaskCount < 100 {
		t.Fatalf("rows: %+v", a)
	}
	if d := et.taskData(t, 0); d["time"] != 1592250491999.973 || d["two"] != 0.0 {
		t.Fatalf("row 0: %#v", d)
	}
}

func TestImportAnswerStreamsManyIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 100,000 tasks")
	}
	e := newImportEnv(t, textConfig, Options{Import: ImportLimits{MaxTasks: -1}})
	var b strings.Builder
	b.WriteString("text\n")
	for i := 0; i < streamIDsOver+10; i++ {
		fmt.Fprintf(&b, "t%d\n", i)
	}
	a := mustImport(t, e.upload1(t, "/api/project/import?skip_duplicates=1", upload{"many.csv", []byte(b.String())}))
	if a.TaskCount != streamIDsOver+10 || len(a.IDs) != a.TaskCount || a.IDs[len(a.IDs)-1] != int64(a.TaskCount-1) || *a.Skipped != 0 || a.Formats[".csv"] != 1 {
		t.Fatalf("task_count %d, %d ids, formats %v", a.TaskCount, len(a.IDs), a.Formats)
	}
}
