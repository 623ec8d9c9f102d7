package server

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestExportEndpoint(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "no format", method: "GET", url: "/api/project/export", wantStatus: 200, want: []string{`"task_count":0`, `"export_formats":["JSON","JSON_MIN","CSV","TSV"]`}},
		{name: "unknown format", method: "GET", url: "/api/project/export?format=XML", wantStatus: 400, want: []string{`Unknown export format \"XML\"`, "JSON, JSON_MIN, CSV, TSV"}},
		{name: "format the config lacks", method: "GET", url: "/api/project/export?format=COCO", wantStatus: 400, want: []string{"does not fit this project's labeling config"}},
		{name: "lower case is another format", method: "GET", url: "/api/project/export?format=json", wantStatus: 400},
	})
}

func unzip(t *testing.T, body string) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip (%v): %.200q", err, body)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

func TestExportJSONAndCSV(t *testing.T) {
	s, _ := newTestServer(t)
	seedCompleted(t, s)
	r := call(t, s, "GET", "/api/project/export?format=JSON", "", "")
	if r.status != 200 || r.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %v", r.status, r.header)
	}
	name := r.header.Get("filename")
	if len(name) != len("2006-01-02-15-04-05.zip") || !strings.Contains(r.header.Get("Content-Disposition"), "attachment; filename="+name) {
		t.Fatalf("filename headers: %q %q", name, r.header.Get("Content-Disposition"))
	}
	files := unzip(t, r.body)
	if !strings.Contains(files["result.json"], `"Positive"`) || strings.Contains(files["result.json"], `"text": "a"`) {
		t.Fatalf("result.json: %s", files["result.json"])
	}
	// All tasks, not only completed ones.
	r = call(t, s, "GET", "/api/project/export?format=JSON&only_completed=false", "", "")
	if files := unzip(t, r.body); !strings.Contains(files["result.json"], `"text": "a"`) {
		t.Fatalf("only_completed=false: %s", files["result.json"])
	}
	r = call(t, s, "GET", "/api/project/export?format=CSV", "", "")
	files = unzip(t, r.body)
	if !strings.Contains(files["result.csv"], "Positive") {
		t.Fatalf("csv: %v", files)
	}
}
