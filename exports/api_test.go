package exports

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"labelstudio/store"
)

// fixturesDir is the Label Studio 0.8.1 test data, outside this repository.
var fixturesDir = filepath.Join("..", "..", "shared", "fixtures", "ls081")

// needFixtures skips the test when the shared fixtures are absent.
func needFixtures(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(fixturesDir, "examples")); err != nil {
		t.Skipf("Label Studio 0.8.1 fixtures not found at %s (%v); skipping", fixturesDir, err)
	}
}

func TestNamesAndLookup(t *testing.T) {
	want := []string{"JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003", "COCO", "VOC", "BRUSH_TO_NUMPY", "BRUSH_TO_PNG", "YOLO", "ASR_MANIFEST"}
	if got := Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Names() = %v", got)
	}
	for i, f := range All() {
		if f.Name() != want[i] {
			t.Errorf("All()[%d] = %s", i, f.Name())
		}
		if g, ok := Lookup(want[i]); !ok || g.Name() != want[i] {
			t.Errorf("Lookup(%s) failed", want[i])
		}
	}
	for _, bad := range []string{"json", "BOGUS", ""} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) found a format", bad)
		}
	}
	if got := Filename(time.Date(2020, 11, 20, 10, 11, 12, 0, time.Local)); got != "2020-11-20-10-11-12.zip" {
		t.Errorf("Filename = %s", got)
	}
	if !DefaultOptions().OnlyCompleted || DefaultOptions().IncludePredictions {
		t.Errorf("DefaultOptions = %+v", DefaultOptions())
	}
}

// TestSupportedExamples checks exports.md §1's table on the template
// configs of 0.8.1.
func TestSupportedExamples(t *testing.T) {
	needFixtures(t)
	generic := "JSON JSON_MIN CSV TSV"
	cases := map[string][2]string{ // example → (Supported, SupportedExtras)
		"text_classification": {generic, ""},
		"text_named_entity":   {generic + " CONLL2003", ""},
		"image_bbox":          {generic + " COCO VOC", "YOLO"},
		"image_bbox_coco":     {generic + " COCO VOC", "YOLO"},
		"image_polygons":      {generic + " COCO", ""},
		"image_brushes":       {generic + " BRUSH_TO_NUMPY BRUSH_TO_PNG", ""},
		"image_keypoints":     {generic, ""},
		"audio_transcribe":    {generic, "ASR_MANIFEST"},
		"image_mixedlabel":    {generic, ""},
		"adv_other_pairwise":  {generic, ""},
	}
	for example, want := range cases {
		cfg, err := os.ReadFile(filepath.Join(fixturesDir, "examples", example, "config.xml"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := parseTestSchema(string(cfg))
		if err != nil {
			t.Fatalf("%s: %v", example, err)
		}
		if got := strings.Join(Supported(s), " "); got != want[0] {
			t.Errorf("%s: Supported = %q, want %q", example, got, want[0])
		}
		if got := strings.Join(SupportedExtras(s), " "); got != want[1] {
			t.Errorf("%s: SupportedExtras = %q, want %q", example, got, want[1])
		}
	}
}

func TestSupportedRules(t *testing.T) {
	img := Object{Name: "img", Type: "Image", Value: "image"}
	txt := Object{Name: "text", Type: "Text", Value: "text"}
	cases := []struct {
		name string
		s    Schema
		want string
	}{
		{"no controls", Schema{Objects: []Object{img}}, "JSON JSON_MIN CSV TSV"},
		{"rect+poly", Schema{Objects: []Object{img}, Controls: []Control{
			{Name: "r", Type: "RectangleLabels", ToName: []string{"img"}},
			{Name: "p", Type: "PolygonLabels", ToName: []string{"img"}},
		}}, "JSON JSON_MIN CSV TSV COCO VOC"},
		{"two data keys", Schema{Objects: []Object{img, txt}, Controls: []Control{
			{Name: "r", Type: "RectangleLabels", ToName: []string{"img"}},
			{Name: "l", Type: "Labels", ToName: []string{"text"}},
		}}, "JSON JSON_MIN CSV TSV"},
		{"labels on image", Schema{Objects: []Object{img}, Controls: []Control{
			{Name: "l", Type: "Labels", ToName: []string{"img"}},
		}}, "JSON JSON_MIN CSV TSV"},
	}
	for _, tc := range cases {
		if got := strings.Join(Supported(tc.s), " "); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	s := Schema{Objects: []Object{{Name: "text", Type: "Text", Value: "text"}},
		Controls: []Control{{Name: "c", Type: "Choices", ToName: []string{"text"}}}}
	none := sliceIterator(nil)
	var buf bytes.Buffer
	err := Write(&buf, "BOGUS", none, s, DefaultOptions())
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "JSON_MIN") || buf.Len() != 0 {
		t.Errorf("unknown format: %v, %d bytes written", err, buf.Len())
	}
	err = Write(&buf, "COCO", none, s, DefaultOptions())
	if !errors.Is(err, ErrUnsupportedFormat) || buf.Len() != 0 {
		t.Errorf("unsupported format: %v, %d bytes written", err, buf.Len())
	}
	boom := errors.New("store is gone")
	failing := func(fn func(store.Task) error) error { return boom }
	for _, name := range []string{"JSON", "JSON_MIN", "CSV", "CONLL2003"} {
		if err := Write(&buf, name, failing, Schema{Objects: []Object{{Name: "text", Type: "Text", Value: "text"}},
			Controls: []Control{{Name: "l", Type: "Labels", ToName: []string{"text"}}}}, DefaultOptions()); !errors.Is(err, boom) {
			t.Errorf("%s: iterator error not passed on: %v", name, err)
		}
	}
}

// TestOnlyCompleted checks that JSON leaves out tasks without completions
// unless asked, even when the iterator yields them.
func TestOnlyCompleted(t *testing.T) {
	tasks := []store.Task{
		{ID: 0, Raw: []byte(`{"id":0,"data":{"text":"a"},"predictions":[{"score":1}]}`)},
		{ID: 1, Raw: []byte(`{"id":1,"data":{"text":"b"}}`), Completions: []store.Completion{{ID: 1001, Raw: []byte(`{"id":1001,"result":[]}`)}}},
	}
	for _, tc := range []struct {
		opts          Options
		tasks, preds  int
		wantSubstring string
	}{
		{DefaultOptions(), 1, 0, `"id": 1001`},
		{Options{}, 2, 0, `"completions": []`},
		{Options{IncludePredictions: true}, 2, 1, `"score": 1`},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, "JSON", sliceIterator(tasks), Schema{}, tc.opts); err != nil {
			t.Fatal(err)
		}
		out := string(entryMap(readZip(t, buf.Bytes()))["result.json"])
		if n := strings.Count(out, `"data"`); n != tc.tasks {
			t.Errorf("%+v: %d tasks in\n%s", tc.opts, n, out)
		}
		if n := strings.Count(out, `"predictions"`); n != tc.preds {
			t.Errorf("%+v: %d predictions", tc.opts, n)
		}
		if !strings.Contains(out, tc.wantSubstring) {
			t.Errorf("%+v: %q missing in\n%s", tc.opts, tc.wantSubstring, out)
		}
	}
}
