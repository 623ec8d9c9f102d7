package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"labelstudio/store"
)

func TestInitWithInputAndImportCommand(t *testing.T) {
	root := t.TempDir()
	imgs := filepath.Join(t.TempDir(), "imgs")
	os.MkdirAll(filepath.Join(imgs, "sub"), 0o755)
	os.WriteFile(filepath.Join(imgs, "a.png"), []byte("A"), 0o644)
	os.WriteFile(filepath.Join(imgs, "sub", "b.jpg"), []byte("B"), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"init", "p", "--root-dir", root, "-i", imgs, "--input-format", "image-dir", "--allow-serving-local-files"}, &out, &errb); code != 0 {
		t.Fatalf("init: %d %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "Imported 2 tasks") {
		t.Fatalf("init output: %s", out.String())
	}
	roots, err := loadRoots(root, "p")
	if err != nil || len(roots) != 1 || roots[0] != imgs {
		t.Fatalf("roots %q %v", roots, err)
	}

	// The import command: files, then a refused one, then duplicates.
	texts := filepath.Join(t.TempDir(), "wrong.json")
	os.WriteFile(texts, []byte(`[{"text":"one"}]`), 0o644)
	out.Reset()
	errb.Reset()
	if code := run([]string{"import", "p", texts, "--root-dir", root}, &out, &errb); code == 0 || !strings.Contains(errb.String(), `"image" key is expected`) {
		t.Fatalf("a task without the image key: %d %s %s", code, out.String(), errb.String())
	}
	tasks := filepath.Join(t.TempDir(), "tasks.json")
	os.WriteFile(tasks, []byte(`[{"image":"http://x/1.png"},{"image":"http://x/2.png"}]`), 0o644)
	out.Reset()
	if code := run([]string{"import", "--root-dir", root, "p", tasks}, &out, &errb); code != 0 || !strings.Contains(out.String(), "Imported 2 tasks") || !strings.Contains(out.String(), "ids 3 to 4") {
		t.Fatalf("import: %d %s %s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := run([]string{"import", "--root-dir", root, "--skip-duplicates", "p", tasks}, &out, &errb); code != 0 || !strings.Contains(out.String(), "Imported 0 tasks") || !strings.Contains(out.String(), "2 duplicates left out") {
		t.Fatalf("again: %d %s %s", code, out.String(), errb.String())
	}
	if code := run([]string{"import", "--root-dir", root, "nope", tasks}, &out, &errb); code != 1 || !strings.Contains(errb.String(), `no project "nope"`) {
		t.Fatalf("unknown project: %d %s", code, errb.String())
	}
	if code := run([]string{"import", "p"}, &out, &errb); code != 2 {
		t.Fatalf("no files: %d", code)
	}

	st, err := store.Open(filepath.Join(root, dbFileName), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.Project("p")
	if err != nil || p.Counters.Tasks != 4 || !p.Settings.AllowServingLocalFiles {
		t.Fatalf("%+v %v", p, err)
	}
	task, err := st.Task("p", 1)
	if err != nil || !strings.Contains(string(task.Raw), `"task_path":"`+filepath.Join(imgs, "a.png")) || !strings.Contains(string(task.Raw), "/data/a.png?d=") {
		t.Fatalf("task 1: %s %v", task.Raw, err)
	}
}
