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

func TestProjectCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"init", "alpha", "--root-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("init: %d %s", code, errb.String())
	}
	if code := run([]string{"project", "rename", "alpha", "beta", "--root-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("rename: %d %s", code, errb.String())
	}
	out.Reset()
	run([]string{"project", "list", "--root-dir", dir}, &out, &errb)
	if !strings.HasPrefix(out.String(), "beta\t") {
		t.Fatalf("list after rename: %q", out.String())
	}
	if code := run([]string{"project", "delete", "beta", "--root-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("delete: %d %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"project", "delete", "beta", "--root-dir", dir}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "not found") {
		t.Fatalf("delete again: %d %s", code, errb.String())
	}
	if code := run([]string{"project", "rename", "x", "--root-dir", dir}, &out, &errb); code != 2 {
		t.Fatalf("bad usage: %d", code)
	}
}

// TestLabelConfigChangeListsEveryProblem: a -l config that does not fit the
// project's tasks and completions is refused before the server starts, with
// every problem named, and the stored config is kept.
func TestLabelConfigChangeListsEveryProblem(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	oldCfg := `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`
	tasks := write("tasks.json", `[{"text":"a"},{"text":"b"}]`)
	var out, errb bytes.Buffer
	if code := run([]string{"init", "p", "--root-dir", root, "-l", write("old.xml", oldCfg), "-i", tasks}, &out, &errb); code != 0 {
		t.Fatalf("init: %d %s %s", code, out.String(), errb.String())
	}
	st, err := store.Open(filepath.Join(root, dbFileName), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	if err := st.EachTask("p", false, func(tk store.Task) error { ids = append(ids, tk.ID); return nil }); err != nil || len(ids) != 2 {
		t.Fatalf("task ids %v %v", ids, err)
	}
	if _, err := st.SaveCompletion("p", ids[0], []byte(`{"result":[{"id":"r","from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`), false); err != nil {
		t.Fatal(err)
	}
	st.Close()

	newCfg := `<View><Text name="body" value="$body"/><Image name="img" value="$image"/>` +
		`<Choices name="mood" toName="body"><Choice value="Positive"/><Choice value="Negative"/></Choices>` +
		`<RectangleLabels name="box" toName="img"><Label value="Car"/></RectangleLabels></View>`
	errb.Reset()
	code := run([]string{"start", "p", "--root-dir", root, "--no-browser", "-l", write("new.xml", newCfg)}, &out, &errb)
	if code == 0 {
		t.Fatalf("start with an unfit config: %d %s", code, out.String())
	}
	prefix := "You've already completed some tasks, but some of them couldn't be loaded with this config: "
	for _, want := range []string{
		"does not fit the project's tasks and completions",
		"You've specified value=$body, but imported tasks contain only keys: ['text']",
		"You've specified value=$image, but imported tasks contain only keys: ['text']",
		prefix + "name=sentiment, toName=text, type=choices are expected",
		prefix + "name=sentiment is expected",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("missing %q in:\n%s", want, errb.String())
		}
	}

	st, err = store.Open(filepath.Join(root, dbFileName), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.Project("p")
	if err != nil {
		t.Fatal(err)
	}
	if p.LabelConfig != oldCfg {
		t.Errorf("the refused config was stored: %s", p.LabelConfig)
	}
}
