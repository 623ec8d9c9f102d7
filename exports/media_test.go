package exports

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

func TestMediaNames(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"/data/upload/planet.jpg", "planet"},
		{"http://host/img/rot.png?token=abc#x", "rot"},
		{"s3://bucket/street%20view.jpeg", "street view"},
		{`C:\images\a.b.png`, "a.b"},
		{"images/../../etc/passwd", "passwd"},
		{"", "task-7"},
		{"http://host/", "task-7"},
		{"..", "task-7"},
		{"a:b*c.jpg", "a_b_c"},
	} {
		if got := mediaBaseName(tc.value, 7); got != tc.want {
			t.Errorf("mediaBaseName(%q) = %q, want %q", tc.value, got, tc.want)
		}
	}
	for _, bad := range []string{"a/b", `a\b`, "..", ".", "x\x00y"} {
		if got := safeName(bad); strings.ContainsAny(got, "/\\\x00") || got == "." || got == ".." {
			t.Errorf("safeName(%q) = %q", bad, got)
		}
	}
}

// TestMediaErrors checks that a failing MediaFunc is reported, not fatal,
// and that the task value stays the file name.
func TestMediaErrors(t *testing.T) {
	dir := filepath.Join("testdata", "COCO", "bbox")
	s, tasks := loadCase(t, dir)
	opts := DefaultOptions()
	opts.Now = goldenTime
	opened := 0
	opts.Media = func(v string) (string, io.ReadCloser, error) {
		opened++
		return "", nil, errors.New("storage offline")
	}
	var buf bytes.Buffer
	if err := Write(&buf, "COCO", sliceIterator(tasks), s, opts); err != nil {
		t.Fatal(err)
	}
	files := entryMap(readZip(t, buf.Bytes()))
	if opened == 0 || !strings.Contains(string(files[warningsFile]), "storage offline") {
		t.Errorf("warnings:\n%s", files[warningsFile])
	}
	if !strings.Contains(string(files["result.json"]), `"file_name": "/data/upload/planet.jpg"`) {
		t.Errorf("file name not kept:\n%s", files["result.json"])
	}
}
