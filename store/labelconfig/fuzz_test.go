package labelconfig

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// addSeeds adds every testdata/*.xml file and a few fragments to the corpus.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.xml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	for _, s := range []string{
		"", "<View/>", "<View></Viewx>", "<Choice\nvalue=\"A\"/>", "<!-- {\"data\": {} } --><View/>",
		"<View><Text name=\"t\" value=\"$t\">1</Text></View>", "<a><![CDATA[]]]]><![CDATA[>]]></a>",
	} {
		f.Add(s)
	}
}

// checkModel verifies invariants every parsed config must satisfy.
func checkModel(t *testing.T, text string, c *Config) {
	t.Helper()
	if c.Raw() != text || c.Root() == nil || c.Root().Parent != nil {
		t.Fatal("bad root or raw text")
	}
	elems := c.Elements()
	if len(elems) == 0 || len(elems) > MaxElements || elems[0] != c.Root() {
		t.Fatalf("%d elements", len(elems))
	}
	for _, e := range elems[1:] {
		if e.Parent == nil || e.Line < e.Parent.Line {
			t.Fatalf("element %s has a bad parent or line", e.Tag)
		}
	}
	if strings.ContainsAny(c.Line(), "\r\n") {
		t.Fatal("line config has line breaks")
	}
	for _, raw := range []json.RawMessage{c.ParsedConfig(), c.DataTypesJSON()} {
		if !json.Valid(raw) {
			t.Fatalf("invalid JSON %s", raw)
		}
	}
	if got := c.CheckTaskData(map[string]json.RawMessage{}); len(got) != len(c.DataKeys()) {
		t.Fatalf("%d reasons for %d missing keys", len(got), len(c.DataKeys()))
	}
	for _, mode := range []SampleMode{EditorPreview, Upload} {
		s, err := c.Sample(mode)
		if err != nil {
			t.Fatal(err)
		}
		data := s.DataJSON()
		if !json.Valid(data) {
			t.Fatalf("invalid sample JSON %s", data)
		}
		for _, raw := range []json.RawMessage{s.Completions, s.Predictions} {
			if raw != nil && !json.Valid(raw) {
				t.Fatalf("invalid override JSON %s", raw)
			}
		}
	}
	// The model has line config semantics: parsing the line config gives
	// the same model. Deleting line breaks can create "]]>", which is the
	// one way a well-formed config can stop being well-formed.
	if !strings.Contains(text, "]]") {
		lc, err := Parse(c.Line())
		if err != nil {
			t.Fatalf("line config does not parse: %v\n%q", err, c.Line())
		}
		if !reflect.DeepEqual(lc.DataKeys(), c.DataKeys()) || !reflect.DeepEqual(lc.Controls(), c.Controls()) ||
			!reflect.DeepEqual(lc.Objects(), c.Objects()) {
			t.Fatalf("line config gives another model\n%q", c.Line())
		}
		if _, err := Parse(c.Full()); err != nil {
			t.Fatalf("full config does not parse: %v", err)
		}
	}
}

func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse(text)
		if err != nil {
			e, ok := AsError(err)
			if !ok || len(e.Messages) != 1 || e.Messages[0] == "" {
				t.Fatalf("bad parse error %#v", err)
			}
			return
		}
		if !utf8.ValidString(text) {
			t.Fatal("invalid UTF-8 accepted")
		}
		checkStdlibAccepts(t, text)
		checkModel(t, text, c)
	})
}

// checkStdlibAccepts cross-checks the parser with encoding/xml: what this
// package accepts, the standard library's strict decoder must accept too.
// Known differences are skipped: encoding/xml uses the older XML 1.0 name
// tables (libxml2 and this package use the fifth edition), resolves
// namespaces its own way, and refuses every version but "1.0" in the XML
// declaration, where libxml2 (and so 0.8.1) and this package take any 1.x.
func checkStdlibAccepts(t *testing.T, text string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(text, "\uFEFF")))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			msg := err.Error()
			for _, known := range []string{"xmlns", "prefix", "invalid XML name", "invalid character entity", "unsupported version"} {
				if strings.Contains(msg, known) {
					return
				}
			}
			t.Fatalf("accepted, but encoding/xml says %v", err)
		}
	}
}

func FuzzValidate(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Validate(text)
		if err != nil {
			e, ok := AsError(err)
			if !ok || len(e.Messages) == 0 || len(e.Messages) > MaxMessages {
				t.Fatalf("bad validation error %#v", err)
			}
			for _, m := range e.Messages {
				if m == "" || !utf8.ValidString(m) {
					t.Fatalf("bad message %q", m)
				}
			}
			return
		}
		checkModel(t, text, c)
		// A valid config passes its own structural checks.
		for _, ct := range c.Controls() {
			if len(ct.Inputs) != len(ct.ToName) {
				t.Fatalf("control %s: %d inputs for %d toName items", ct.Name, len(ct.Inputs), len(ct.ToName))
			}
		}
	})
}

func FuzzLineConfig(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		line := LineConfig(text)
		if strings.ContainsAny(line, "\r\n") && !strings.Contains(text, "<!--") {
			t.Fatal("line breaks left in the line config")
		}
		full := FullConfig(text)
		if !strings.Contains(text, "<!--") {
			if full != text {
				t.Fatal("FullConfig changed a text without comments")
			}
			// Only line breaks are removed and only single spaces added.
			strip := func(s string) string {
				return strings.NewReplacer("\r", "", "\n", "", " ", "").Replace(s)
			}
			if strip(line) != strip(text) || len(line) > len(text) {
				t.Fatalf("LineConfig(%q) = %q", text, line)
			}
		}
		if len(full) > len(text) {
			t.Fatal("FullConfig grew the text")
		}
		if _, err := Parse(text); err == nil {
			if LineConfig(line) != line {
				t.Fatal("LineConfig is not idempotent on a well-formed config")
			}
		}
	})
}
