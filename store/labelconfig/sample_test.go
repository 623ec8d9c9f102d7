package labelconfig

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSampleTaskExamples covers the exact outputs of config.md §6.2.
func TestSampleTaskExamples(t *testing.T) {
	tests := []struct {
		example string
		mode    SampleMode
		want    string
	}{
		{"image_polygons", Upload, `{"image":"static/samples/sample.jpg"}`},
		{"text_classification", Upload, `{"text":"To have faith is to trust yourself to the water"}`},
		{"audio_transcribe", Upload, `{"audio":"static/samples/game.wav"}`},
		{"ts_loading_csv", Upload, `{"csv":"/samples/time-series.csv?time=time&values=velocity%2Cacceleration&sep=%2C"}`},
		{"ts_loading_headless", Upload, `{"csv":"/samples/time-series.csv?time=0&values=1%2C2&sep=%2C"}`},
		{"ts_classification", Upload, `{"csv":"/samples/time-series.csv?time=&values=first_column"}`},
		{"ts_segmentation", Upload, `{"csv":"/samples/time-series.csv?time=time&values=velocity%2Cacceleration&sep=%2C&tf=%25Y-%25m-%25d+%25H%3A%25M%3A%25S.%25f"}`},
		{"html_pdf", Upload, `{"pdf":"<embed src='static/samples/sample.pdf' width='100%' height='600px'/>"}`},
		{"html_website", Upload, `{"website":"<iframe src='https://example.com' width='100%' height='600px'/>"}`},
		{"adv_other_pairwise", Upload, `{"text1":"To have faith is to trust yourself to the water","text2":"To have faith is to trust yourself to the water"}`},
		{"adv_other_table2", Upload, `{"item":{"Order":4711,"Item":"Desk lamp","Colour":"Green"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			data, comps, preds, err := SampleTask(exampleConfig(t, tt.example), tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.want {
				t.Errorf("data\n got %s\nwant %s", data, tt.want)
			}
			if comps != nil || preds != nil {
				t.Errorf("unexpected completions/predictions %s %s", comps, preds)
			}
		})
	}
}

func TestSampleTaskRules(t *testing.T) {
	tests := []struct {
		name   string
		config string
		mode   SampleMode
		want   string
	}{
		{"text url", `<View><Text name="t" value="$t" valueType="url"/></View>`, Upload, `{"t":"static/samples/lorem_ipsum.txt"}`},
		{"lower-case valuetype", `<View><Text name="t" value="$t" valuetype="url"/><Text name="u" value="$u"/></View>`, Upload,
			`{"t":"static/samples/lorem_ipsum.txt","u":"To have faith is to trust yourself to the water"}`},
		{"variable lookup before tag", `<View><Text name="t" value="$video"/></View>`, Upload,
			`{"video":"<video src='static/samples/sample.mp4' width=100% controls>"}`},
		{"unknown tag", `<View><Video name="v" value="$v"/><Foo value="$foo"/></View>`, Upload, `{"v":"Something","foo":"Something"}`},
		{"literal values and the root are skipped", `<View value="$root"><Header value="Hi"/><Header value="$h"/></View>`, Upload, `{"h":"Example header"}`},
		{"bare dollar gives an empty key", `<View><Header value="$"/></View>`, Upload, `{"":"Example header"}`},
		{"list element value", `<View><List name="l" value="$items" elementValue="$title"/></View>`, Upload,
			`{"items":[{"title":"Hello world"},{"title":"Goodbye world"}]}`},
		{"dialog", `<View><Dialog name="d" value="$d"/></View>`, Upload,
			`{"d":[{"name":"Mia","text":"Is the museum open on Mondays?"},{"name":"Leo","text":"Only in summer, as far as I know."}]}`},
		{"same key twice keeps first position", `<View><Text name="a" value="$a"/><Image name="b" value="$b"/><Image name="c" value="$a"/></View>`, Upload,
			`{"a":"static/samples/sample.jpg","b":"static/samples/sample.jpg"}`},
		{"time series json without time column", `<View><TimeSeries name="ts" value="$ts" valueType="json"><Channel column="a"/></TimeSeries></View>`, Upload, ""},
		{"headless csv variable", `<View><TimeSeries name="ts" value="$headlessCsv" timeColumn="0"><Channel column="1"/></TimeSeries></View>`, Upload,
			`{"headlessCsv":"/samples/time-series.csv?time=0&values=1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, _, _, err := SampleTask(tt.config, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && string(data) != tt.want {
				t.Errorf("got  %s\nwant %s", data, tt.want)
			}
			if !json.Valid(data) {
				t.Errorf("invalid JSON %s", data)
			}
		})
	}
}

func TestSampleModesDiffer(t *testing.T) {
	config := `<View><HyperText name="h" value="$h"/><HyperText name="w" value="$website"/></View>`
	up, _, _, err := SampleTask(config, Upload)
	if err != nil {
		t.Fatal(err)
	}
	ed, _, _, err := SampleTask(config, EditorPreview)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(up), "https://example.com") || !strings.Contains(string(ed), "http://example.com") ||
		!strings.Contains(string(ed), "<b>Mia</b>") || strings.Contains(string(up), "Mia") {
		t.Errorf("upload %s\neditor %s", up, ed)
	}
	if _, _, _, err := SampleTask(config, "other"); err == nil {
		t.Error("unknown mode accepted")
	}
	if _, _, _, err := SampleTask("<View>", Upload); err == nil {
		t.Error("malformed config accepted")
	} else if _, ok := AsError(err); !ok {
		t.Errorf("error %T is not an *Error", err)
	}
}

func TestSampleTimeSeriesJSON(t *testing.T) {
	for _, tt := range []struct{ format, first, last string }{
		{"", "0", "99"},
		{"yyyy-MM-dd", `"2020-01-01"`, `"2020-04-09"`},
		{"%Y-%m-%d %H:%M:%S.%f", `"2020-01-01 00:00:00.000000"`, `"2020-04-09 00:00:00.000000"`},
		{"%d %b %Y (%a) %j %%", `"01 Jan 2020 (Wed) 001 %"`, `"09 Apr 2020 (Thu) 100 %"`},
	} {
		config := `<View><TimeSeries name="ts" value="$ts" valueType="json" timeColumn="t" timeFormat="` + tt.format +
			`"><Channel column="a"/><Channel column="b"/><Channel column="a"/><View><Channel column="nested"/></View></TimeSeries></View>`
		s1, _, _, err := SampleTask(config, Upload)
		if err != nil {
			t.Fatal(err)
		}
		s2, _, _, _ := SampleTask(config, Upload)
		if string(s1) != string(s2) {
			t.Error("generated series is not deterministic")
		}
		var data map[string]map[string][]json.RawMessage
		if err := json.Unmarshal(s1, &data); err != nil {
			t.Fatalf("%v: %s", err, s1)
		}
		ts := data["ts"]
		if len(ts) != 3 || len(ts["t"]) != 100 || len(ts["a"]) != 100 || len(ts["b"]) != 100 {
			t.Fatalf("columns %v", ts)
		}
		if string(ts["t"][0]) != tt.first || string(ts["t"][99]) != tt.last {
			t.Errorf("format %q: times %s..%s", tt.format, ts["t"][0], ts["t"][99])
		}
		if !strings.HasPrefix(string(s1), `{"ts":{"t":[`) {
			t.Errorf("time column is not first: %.40s", s1)
		}
	}
}

// TestSampleOverride covers config.md §6.3.
func TestSampleOverride(t *testing.T) {
	const base = `<View><Text name="t" value="$text"/><Image name="i" value="$image"/></View>`
	tests := []struct {
		name              string
		comment           string
		mode              SampleMode
		data, comps, pred string
	}{
		{"data replaces and extends", `<!-- {"data": {"image": "my.jpg", "extra": [1, 2]}, "completions": [{"result": []}]} -->`, EditorPreview,
			`{"text":"To have faith is to trust yourself to the water","image":"my.jpg","extra":[1,2]}`, `[{"result":[]}]`, ""},
		{"meta comment merges whole object", `<!-- {"title": "T", "order": 1} -->`, EditorPreview,
			`{"text":"To have faith is to trust yourself to the water","image":"static/samples/sample.jpg","title":"T","order":1}`, "", ""},
		{"predictions only: data untouched", "<!--{\n \"predictions\": [{\"result\": [], \"score\": 0.5}]\n}-->", EditorPreview,
			`{"text":"To have faith is to trust yourself to the water","image":"static/samples/sample.jpg"}`, "", `[{"result":[],"score":0.5}]`},
		{"invalid JSON ignored", `<!-- {"data": } -->`, EditorPreview,
			`{"text":"To have faith is to trust yourself to the water","image":"static/samples/sample.jpg"}`, "", ""},
		{"not an object ignored", `<!-- {"a": 1} extra -->`, EditorPreview,
			`{"text":"To have faith is to trust yourself to the water","image":"static/samples/sample.jpg"}`, "", ""},
		{"upload mode ignores it", `<!-- {"data": {"image": "my.jpg"}} -->`, Upload,
			`{"text":"To have faith is to trust yourself to the water","image":"static/samples/sample.jpg"}`, "", ""},
		{"only the first one counts", `<!-- {"data": {"image": "first.jpg"}} --><!-- {"data": {"image": "second.jpg"}} -->`, EditorPreview,
			`{"text":"To have faith is to trust yourself to the water","image":"first.jpg"}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, comps, preds, err := SampleTask(base+"\n"+tt.comment, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.data || string(comps) != tt.comps || string(preds) != tt.pred {
				t.Errorf("got  %s | %s | %s\nwant %s | %s | %s", data, comps, preds, tt.data, tt.comps, tt.pred)
			}
		})
	}
}

// TestSampleOverrideExample: a template without its meta line (as the Setup
// page sends it) previews with the completions of its comment.
func TestSampleOverrideExample(t *testing.T) {
	raw := exampleConfig(t, "ts_rel_text")
	template := raw[strings.Index(raw, "-->\n")+4:]
	data, comps, preds, err := SampleTask(template, EditorPreview)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"Authorization success\nError requesting auth: Authorization check failed",` +
		`"csv":"/samples/time-series.csv?time=time&values=temperature&sep=%2C"}`
	if string(data) != want || preds != nil || !strings.HasPrefix(string(comps), `[{"result":[{"value":{"start":22,`) {
		t.Errorf("data %s\ncompletions %.60s\npredictions %s", data, comps, preds)
	}
}
