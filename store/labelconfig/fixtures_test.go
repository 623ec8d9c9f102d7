package labelconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// fixturesDir returns the shared ls081 fixtures directory, found relative to
// this test file, or skips the test when it is absent.
func fixturesDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Skip("cannot locate the test file to find ../shared/fixtures/ls081")
	}
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "fixtures", "ls081")
	if _, err := os.Stat(filepath.Join(dir, "examples")); err != nil {
		t.Skipf("shared fixtures not found at %s (they live outside the repository): %v", dir, err)
	}
	return dir
}

// exampleConfig reads examples/<name>/config.xml.
func exampleConfig(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixturesDir(t), "examples", name, "config.xml"))
	if err != nil {
		t.Fatalf("read example %s: %v", name, err)
	}
	return string(data)
}

// TestExamplesValidate: every template config of 0.8.1 passes validation,
// and so do its full and line configs.
func TestExamplesValidate(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(fixturesDir(t), "examples", "*", "config.xml"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no example configs found: %v", err)
	}
	for _, path := range dirs {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			raw := exampleConfig(t, name)
			c, err := Validate(raw)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !c.HasComments() {
				t.Fatal("every example starts with a meta comment")
			}
			full := c.Full()
			if strings.Contains(full, "<!--") || !strings.HasPrefix(full, "<View") || !strings.HasSuffix(full, "</View>") {
				t.Fatalf("full config not comment-free:\n%s", full)
			}
			for _, variant := range []string{full, c.Line()} {
				c2, err := Validate(variant)
				if err != nil {
					t.Fatalf("Validate(derived config): %v\n%s", err, variant)
				}
				if !reflect.DeepEqual(c2.DataKeys(), c.DataKeys()) || !reflect.DeepEqual(c2.Controls(), c.Controls()) {
					t.Fatal("derived config gives a different model")
				}
			}
			if strings.ContainsAny(c.Line(), "\r\n") {
				t.Fatal("line config has line breaks")
			}
			if LineConfig(raw) != c.Line() || FullConfig(raw) != full {
				t.Fatal("package functions and methods disagree")
			}
			for _, mode := range []SampleMode{EditorPreview, Upload} {
				data, _, _, err := SampleTask(raw, mode)
				if err != nil || !json.Valid(data) {
					t.Fatalf("SampleTask(%s): %v %s", mode, err, data)
				}
			}
		})
	}
}

func TestExampleDataKeys(t *testing.T) {
	tests := []struct {
		example string
		want    []DataKey
		formats []string
	}{
		{"image_polygons", []DataKey{{"image", "Image"}}, []string{"json", "csv", "tsv", "txt"}},
		{"text_classification", []DataKey{{"text", "Text"}}, []string{"json", "csv", "tsv", "txt"}},
		{"adv_other_pairwise", []DataKey{{"text1", "Text"}, {"text2", "Text"}}, []string{"json", "csv", "tsv"}},
		{"image_mixedlabel", []DataKey{{"image", "Image"}, {"url", "Audio"}, {"text", "Text"}}, []string{"json", "csv", "tsv"}},
		{"html_video_timeline", []DataKey{{"video", "HyperText"}, {"videoSource", "AudioPlus"}}, []string{"json", "csv", "tsv"}},
		{"ts_rel_text", []DataKey{{"event", "Text"}, {"csv", "TimeSeries"}}, []string{"json", "csv", "tsv"}},
		{"adv_other_table2", []DataKey{{"item", "Table"}}, []string{"json", "csv", "tsv", "txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			c, err := Validate(exampleConfig(t, tt.example))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.DataKeys(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DataKeys = %v, want %v", got, tt.want)
			}
			if got := c.FirstDataKey(); got != tt.want[0].Key {
				t.Errorf("FirstDataKey = %q", got)
			}
			if got := c.SupportedImportFormats(); !reflect.DeepEqual(got, tt.formats) {
				t.Errorf("SupportedImportFormats = %v, want %v", got, tt.formats)
			}
		})
	}
}

func TestExampleParsedConfig(t *testing.T) {
	tests := []struct {
		example string
		want    string
	}{
		{"text_classification", `{"sentiment":{"type":"Choices","to_name":["text"],"inputs":[{"type":"Text","value":"text"}],` +
			`"labels":["Positive","Negative","Neutral"],"labels_attrs":{"Positive":{"value":"Positive"},` +
			`"Negative":{"value":"Negative"},"Neutral":{"value":"Neutral"}}}}`},
		{"adv_other_pairwise", `{"pw":{"type":"Pairwise","to_name":["text1","text2"],` +
			`"inputs":[{"type":"Text","value":"text1"},{"type":"Text","value":"text2"}],"labels":[],"labels_attrs":{}}}`},
		// A Filter is not a control; aliases replace values as labels.
		{"adv_other_filter", `{"ner":{"type":"Labels","to_name":["text"],"inputs":[{"type":"Text","value":"text"}],` +
			`"labels":["Person","Organization"],"labels_attrs":{"Person":{"value":"Person"},"Organization":{"value":"Organization"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			c, err := Validate(exampleConfig(t, tt.example))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(c.ParsedConfig()); got != tt.want {
				t.Errorf("ParsedConfig =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}

	c, err := Validate(exampleConfig(t, "image_mixedlabel"))
	if err != nil {
		t.Fatal(err)
	}
	ct, ok := c.Control("choices1")
	if !ok || !reflect.DeepEqual(ct.Labels, []string{"yes", "no", "unknown"}) ||
		ct.LabelAttrs["unknown"]["value"] != "Don't know" || ct.Type != "Choices" ||
		!reflect.DeepEqual(ct.Inputs, []ObjectTag{{Name: "audio", Type: "Audio", Value: "url"}}) {
		t.Errorf("choices1 = %+v", ct)
	}
	// text1 has a literal value: it is an input tag but not a data key.
	if ot, ok := c.Object("text1"); !ok || ot.Value != "Select label, click and drag on image" {
		t.Errorf("text1 = %+v", ot)
	}
	if _, ok := c.Control("text1"); ok {
		t.Error("text1 is not a control")
	}
	names := []string{}
	for _, ct := range c.Controls() {
		names = append(names, ct.Name)
	}
	if !reflect.DeepEqual(names, []string{"tag", "choices1", "choices2"}) {
		t.Errorf("controls = %v", names)
	}

	// Choices nested in Views own their Choice elements.
	c, err = Validate(exampleConfig(t, "text_multi_class"))
	if err != nil {
		t.Fatal(err)
	}
	ct, _ = c.Control("sentiment")
	if want := []string{"Politics", "Business", "Sport", "Cheerful", "Melancholy", "Romantic"}; !reflect.DeepEqual(ct.Labels, want) {
		t.Errorf("nested labels = %v", ct.Labels)
	}
}

// TestExampleTasks checks the fixture tasks.json items against their
// configs: matching ones pass, the stale ones report the missing key.
func TestExampleTasks(t *testing.T) {
	tests := []struct {
		example string
		want    []string
	}{
		{"adv_other_pairwise", nil},
		{"html_dialogues", nil},
		{"image_bbox", nil},
		{"image_polygons", nil},
		{"text_named_entity", nil},
		{"audio_classification", []string{`"audio" key is expected in task data`}},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			c, err := Validate(exampleConfig(t, tt.example))
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(fixturesDir(t), "examples", tt.example, "tasks.json"))
			if err != nil {
				t.Fatal(err)
			}
			var tasks []struct {
				Data map[string]json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(data, &tasks); err != nil {
				t.Fatal(err)
			}
			for i, task := range tasks {
				if got := c.CheckTaskData(task.Data); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("task %d: %q, want %q", i, got, tt.want)
				}
			}
		})
	}
}
