package server

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

func TestImportFilesLikeUploads(t *testing.T) {
	e := newImportEnv(t, textConfig, Options{})
	paths := []string{filepath.Join("testdata", "import", "tasks.json"), filepath.Join("testdata", "import", "texts.csv"), filepath.Join("testdata", "import", "archive.zip")}
	var progress []int
	sum, err := ImportFiles(e.st, "test", paths, LocalImport{UploadDir: e.upload, Progress: func(n int) { progress = append(progress, n) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.TaskIDs()) != 10 || sum.Formats[".csv"] != 2 || sum.Formats[".json"] != 2 || sum.Formats[".txt"] != 1 || len(progress) == 0 {
		t.Fatalf("%+v progress %v", sum, progress)
	}
	_, err = ImportFiles(e.st, "test", []string{filepath.Join("testdata", "import", "missing_key.json")}, LocalImport{})
	msgs, ok := IsImportError(err)
	if !ok || !strings.HasPrefix(msgs[0], "Error   at item 1:") || e.taskCount(t) != 10 {
		t.Fatalf("%v %q, stored %d", err, msgs, e.taskCount(t))
	}
	if _, err := ImportFiles(e.st, "test", []string{"testdata/import/nope.json"}, LocalImport{}); err == nil {
		t.Fatal("a missing file was accepted")
	}
}

func TestImportInputFormats(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) string {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	write("jsons/b.json", `[{"text":"b1"},{"text":"b2"}]`)
	write("jsons/a.JSON", `{"text":"a"}`)
	write("jsons/notes.md", `ignored`)
	write("texts/one.txt", "t1\nt2\n")
	write("texts/two", "t3")
	write("texts/.hidden", "skip")
	write("media/x.png", "PNG1")
	write("media/deeper/y b.JPG", "PNG2")
	write("media/.cache/z.png", "skip")
	write("media/readme.txt", "skip")
	write("audio/s.wav", "RIFF")
	single := write("one.json", `[{"text":"s"}]`)
	lines := write("lines.txt", "l1\r\nl2")

	rows := []struct {
		format, path, config string
		texts                []string
		firstID              int64
	}{
		{"json", single, textConfig, []string{"s"}, 0},
		{"json-dir", filepath.Join(dir, "jsons"), textConfig, []string{"a", "b1", "b2"}, 0},
		{"text", lines, textConfig, []string{"l1", "l2"}, 0},
		{"text-dir", filepath.Join(dir, "texts"), textConfig, []string{"t1", "t2", "t3"}, 0},
		{"image-dir", filepath.Join(dir, "media"), imageConfig, nil, 1},
		{"audio-dir", filepath.Join(dir, "audio"), audioConfig, nil, 1},
	}
	for _, r := range rows {
		t.Run(r.format, func(t *testing.T) {
			e := newImportEnv(t, r.config, Options{AllowServingLocalFiles: true, LocalFilesRoots: []string{dir}})
			sum, err := ImportInput(e.st, "test", r.path, r.format, LocalImport{UploadDir: e.upload})
			if err != nil {
				t.Fatal(err)
			}
			if sum.TaskIDs()[0] != r.firstID {
				t.Fatalf("first id %d, want %d", sum.TaskIDs()[0], r.firstID)
			}
			if r.texts != nil {
				var got []string
				for _, id := range sum.TaskIDs() {
					got = append(got, fmt.Sprint(e.taskData(t, id)["text"]))
				}
				if strings.Join(got, "|") != strings.Join(r.texts, "|") {
					t.Fatalf("texts %q, want %q", got, r.texts)
				}
				return
			}
			// Media: URLs served from the registered root, task_path set.
			key := map[string]string{"image-dir": "image", "audio-dir": "audio"}[r.format]
			want := map[string][]string{"image-dir": {"PNG2", "PNG1"}, "audio-dir": {"RIFF"}}[r.format]
			if len(sum.TaskIDs()) != len(want) {
				t.Fatalf("%d tasks, want %d", len(sum.TaskIDs()), len(want))
			}
			for i, id := range sum.TaskIDs() {
				u := e.taskData(t, id)[key].(string)
				if !strings.HasPrefix(u, "/data/") || !strings.Contains(u, "?d="+url.QueryEscape(r.path)) {
					t.Fatalf("url %q", u)
				}
				resp := get(t, e.s, u, nil)
				if resp.status != 200 || resp.body != want[i] {
					t.Fatalf("GET %s: %d %q", u, resp.status, resp.body)
				}
				raw := call(t, e.s, "GET", fmt.Sprintf("/api/tasks/%d", id), "", "")
				var task struct {
					TaskPath string `json:"task_path"`
				}
				json.Unmarshal([]byte(raw.body), &task)
				if !strings.HasPrefix(task.TaskPath, r.path) {
					t.Fatalf("task_path %q in %s", task.TaskPath, raw.body)
				}
			}
		})
	}
	e := newImportEnv(t, textConfig, Options{})
	if _, err := ImportInput(e.st, "test", dir, "xml-dir", LocalImport{}); err == nil || !strings.Contains(err.Error(), "unknown input format") {
		t.Fatal(err)
	}
	if _, err := ImportInput(e.st, "test", filepath.Join(dir, "texts"), "image-dir", LocalImport{}); err == nil || !strings.Contains(err.Error(), "no .png") {
		t.Fatal(err)
	}
}
