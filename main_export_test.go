package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	tasks := filepath.Join(dir, "tasks.json")
	os.WriteFile(tasks, []byte(`[{"data":{"text":"good"},"completions":[{"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}]},{"data":{"text":"open"}}]`), 0o644)
	cfg := filepath.Join(dir, "config.xml")
	os.WriteFile(cfg, []byte(`<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`), 0o644)
	var out, errb bytes.Buffer
	if code := run([]string{"init", "p", "--root-dir", dir, "-l", cfg, "-i", tasks}, &out, &errb); code != 0 {
		t.Fatalf("init: %d %s", code, errb.String())
	}
	zipPath := filepath.Join(dir, "out.zip")
	if code := run([]string{"export", "p", "--format", "CSV", "-o", zipPath, "--root-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("export: %d %s", code, errb.String())
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.Contains(string(b), "Positive") || strings.Contains(string(b), "open") {
		t.Fatalf("csv: %s", b)
	}
	errb.Reset()
	if code := run([]string{"export", "p", "--format", "COCO", "-o", zipPath, "--root-dir", dir}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "offers") {
		t.Fatalf("unsupported format: %d %s", code, errb.String())
	}
}
