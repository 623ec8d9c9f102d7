package labelconfig

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestCheckTaskData covers the value types of config.md §4.2 and the import
// reasons of api.md §4.3.
func TestCheckTaskData(t *testing.T) {
	tests := []struct {
		name   string
		config string
		data   string
		want   []string
	}{
		{"text string", `<View><Text name="t" value="$t"/></View>`, `{"t": "hello"}`, nil},
		{"text number", `<View><Text name="t" value="$t"/></View>`, `{"t": 1.5}`, nil},
		{"text bool passes as in 0.8.1", `<View><Text name="t" value="$t"/></View>`, `{"t": true}`, nil},
		{"text null", `<View><Text name="t" value="$t"/></View>`, `{"t": null}`,
			[]string{`data["t"]=null is of type "NoneType", but types "str, int, float, bool" are expected`}},
		{"header list", `<View><Header value="$h"/></View>`, `{"h": [1, 2]}`,
			[]string{`data["h"]=[1,2] is of type "list", but types "str, int, float, bool" are expected`}},
		{"image needs a string", `<View><Image name="i" value="$i"/></View>`, `{"i": 123}`,
			[]string{`data["i"]=123 is of type "int", but types "str" are expected`}},
		{"hypertext float", `<View><HyperText name="h" value="$h"/></View>`, `{"h": 1e3}`,
			[]string{`data["h"]=1e3 is of type "float", but types "str" are expected`}},
		{"list ok", `<View><List name="l" value="$l" elementValue="$text"/></View>`, `{"l": [{"text": "a"}, {"text": "b", "id": 2}]}`, nil},
		{"list item without text", `<View><List name="l" value="$l"/></View>`, `{"l": [{"text": "a"}, {"title": "b"}]}`,
			[]string{"Each item from List must have key text"}},
		{"list item not an object", `<View><List name="l" value="$l"/></View>`, `{"l": ["text"]}`,
			[]string{"Each item from List must have key text"}},
		{"list must be an array", `<View><List name="l" value="$l"/></View>`, `{"l": {"text": "a"}}`,
			[]string{`data["l"]={"text":"a"} is of type "dict", but types "list" are expected`}},
		{"dialog array", `<View><Dialog name="d" value="$d"/></View>`, `{"d": []}`, nil},
		{"table object", `<View><Table name="t" value="$t"/></View>`, `{"t": {"a": 1}}`, nil},
		{"table string", `<View><Table name="t" value="$t"/></View>`, `{"t": "a"}`,
			[]string{`data["t"]="a" is of type "str", but types "dict" are expected`}},
		{"time series object, array or string", `<View><TimeSeries name="a" value="$a"/><TimeSeries name="b" value="$b"/><TimeSeries name="c" value="$c"/></View>`,
			`{"a": {"x": [1]}, "b": [1], "c": "u.csv"}`, nil},
		{"time series number", `<View><TimeSeries name="a" value="$a"/></View>`, `{"a": 5}`,
			[]string{`data["a"]=5 is of type "int", but types "dict, list, str" are expected`}},
		{"other tags need strings", `<View><Audio name="a" value="$a"/><Video name="v" value="$v"/></View>`, `{"a": "x.wav", "v": false}`,
			[]string{`data["v"]=false is of type "bool", but types "str" are expected`}},
		{"missing key", `<View><Image name="i" value="$image"/></View>`, `{"img": "x.jpg"}`,
			[]string{`"image" key is expected in task data`}},
		{"extra keys allowed", `<View><Image name="i" value="$image"/></View>`, `{"image": "x.jpg", "meta": 1}`, nil},
		{"later tag overwrites the type", `<View><Text name="a" value="$x"/><Image name="b" value="$x"/></View>`, `{"x": 7}`,
			[]string{`data["x"]=7 is of type "int", but types "str" are expected`}},
		{"header reads a key without being an input", `<View><Header value="$title"/><Text name="t" value="$t"/></View>`, `{"t": "x"}`,
			[]string{`"title" key is expected in task data`}},
		{"all reasons in key order", `<View><Image name="a" value="$a"/><Image name="b" value="$b"/></View>`, `{"a": 1}`,
			[]string{`data["a"]=1 is of type "int", but types "str" are expected`, `"b" key is expected in task data`}},
		{"no data keys", `<View/>`, `{}`, nil},
		{"long values are cut", `<View><Image name="a" value="$a"/></View>`,
			`{"a": [11111111111, 22222222222, 33333333333, 44444444444, 55555555555, 66666666666, 77777777777, 88888888888, 99999999999]}`,
			[]string{`data["a"]=[11111111111,22222222222,33333333333,44444444444,55555555555,66666666666,77777777777,88888888888,999... is of type "list", but types "str" are expected`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Validate(tt.config)
			if err != nil {
				t.Fatal(err)
			}
			var data map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.data), &data); err != nil {
				t.Fatal(err)
			}
			if got := c.CheckTaskData(data); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSupportedImportFormats(t *testing.T) {
	tests := []struct {
		config string
		want   []string
	}{
		{`<View/>`, []string{"json", "csv", "tsv"}},
		{`<View><Text name="t" value="$t"/></View>`, []string{"json", "csv", "tsv", "txt"}},
		{`<View><Text name="t" value="$t"/><Text name="u" value="$u"/></View>`, []string{"json", "csv", "tsv"}},
		{`<View><List name="l" value="$l"/></View>`, []string{"json"}},
	}
	for _, tt := range tests {
		c, err := Parse(tt.config)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.SupportedImportFormats(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.config, got, tt.want)
		}
	}
}

func TestDataKeysRules(t *testing.T) {
	c, err := Parse(`<Image value="$root"><Header value="$"/><Header value="literal"/><List value="$l" elementValue="$e"/>` +
		`<View><Text value="$x"/></View><Audio value="$l"/></Image>`)
	if err != nil {
		t.Fatal(err)
	}
	want := []DataKey{{"l", "Audio"}, {"x", "Text"}}
	if got := c.DataKeys(); !reflect.DeepEqual(got, want) {
		t.Errorf("DataKeys = %v, want %v", got, want)
	}
	if string(c.DataTypesJSON()) != `{"l":"Audio","x":"Text"}` {
		t.Errorf("DataTypesJSON = %s", c.DataTypesJSON())
	}
	if !c.HasTag("Image") || !c.HasTag("List") || c.HasTag("Choices") {
		t.Error("HasTag")
	}
	empty, _ := Parse(`<View/>`)
	if empty.FirstDataKey() != "" || len(empty.DataKeys()) != 0 || string(empty.DataTypesJSON()) != "{}" {
		t.Error("empty config has data keys")
	}
}
