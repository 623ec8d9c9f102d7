package labelconfig

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// view wraps a fragment in the root <View> of config.md §3.8.
func view(fragment string) string { return "<View>" + fragment + "</View>" }

const textAndChoices = `<Text name="t" value="$t"/><Choices name="c" toName="t">`

// TestValidateAcceptRejectTable covers every row of config.md §3.8 with the
// exact error list this package reports.
func TestValidateAcceptRejectTable(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string // nil: accepted
	}{
		{
			name:   "text with two choices",
			config: view(textAndChoices + `<Choice value="A"/><Choice value="B"/></Choices>`),
		},
		{
			name:   "single choice is not an array",
			config: view(textAndChoices + `<Choice value="A"/></Choices>`),
			want:   []string{"Validation failed on View/Choices/Choice: {'value': 'A'} is not of type 'array'"},
		},
		{
			name:   "numeric choice values",
			config: view(textAndChoices + `<Choice value="1"/><Choice value="2"/></Choices>`),
			want: []string{
				"Validation failed on View/Choices/Choice/0/@value: 1 is not of type 'string'",
				"Validation failed on View/Choices/Choice/1/@value: 2 is not of type 'string'",
			},
		},
		{
			name:   "empty choice value",
			config: view(textAndChoices + `<Choice value=""/><Choice value="B"/></Choices>`),
			want:   []string{"Validation failed on View/Choices/Choice/0/@value: None is not of type 'string'"},
		},
		{
			name:   "one label allowed",
			config: view(`<Text name="t" value="$t"/><Labels name="c" toName="t"><Label value="A"/></Labels>`),
		},
		{
			name:   "numeric label value",
			config: view(`<Text name="t" value="$t"/><Labels name="c" toName="t"><Label value="1"/><Label value="B"/></Labels>`),
			want:   []string{"Validation failed on View/Labels/Label/0/@value: 1 is not of type 'string'"},
		},
		{
			name:   "unchecked RectangleLabels",
			config: view(`<Image name="i" value="$i"/><RectangleLabels name="r" toName="i"><Label value="1"/></RectangleLabels>`),
		},
		{
			name:   "unknown tag",
			config: view(`<Foo name="x"/>`),
		},
		{
			name:   "text without value",
			config: view(`<Text name="t"/>`),
			want:   []string{"Validation failed on View/Text: 'value' is a required property"},
		},
		{
			name:   "text without name",
			config: view(`<Text value="$t"/>`),
			want:   []string{"Validation failed on View/Text: 'name' is a required property"},
		},
		{
			name:   "two tags with the same name",
			config: view(`<Text name="t" value="$t"/><Image name="t" value="$i"/>`),
			want:   []string{"Label config contains non-unique names ['t', 't']"},
		},
		{
			name:   "toName not found",
			config: view(`<Text name="t" value="$t"/><Choices name="c" toName="zz"><Choice value="A"/><Choice value="B"/></Choices>`),
			want:   []string{`toName="zz" not found in names: ['c', 't']`},
		},
		{
			name:   "empty view",
			config: `<View></View>`,
		},
		{
			name:   "root is not View",
			config: `<Foo><Text name="t"/></Foo>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Validate(tt.config)
			got := errorMessages(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Validate(%s)\n got: %q\nwant: %q", tt.config, got, tt.want)
			}
			if err == nil && c == nil {
				t.Fatal("Validate returned neither config nor error")
			}
			if err != nil && c != nil {
				t.Fatal("Validate returned a config with an error")
			}
		})
	}
}

// errorMessages returns the messages of an *Error, nil for a nil error.
func errorMessages(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	e, ok := AsError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if len(e.Messages) == 0 {
		t.Fatal("*Error without messages")
	}
	if e.Error() != strings.Join(e.Messages, "; ") {
		t.Fatalf("Error() = %q", e.Error())
	}
	return e.Messages
}

// TestValidateMoreRules covers schema rules and pipeline steps beyond the
// §3.8 table.
func TestValidateMoreRules(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{"value must be a string: integer", view(`<Text name="t" value="123"/>`),
			[]string{"Validation failed on View/Text/@value: 123 is not of type 'string'"}},
		{"value must be a string: boolean", view(`<Image name="t" value="TRUE"/>`),
			[]string{"Validation failed on View/Image/@value: True is not of type 'string'"}},
		{"value must be a string: empty", view(`<HyperText name="t" value=""/>`),
			[]string{"Validation failed on View/HyperText/@value: None is not of type 'string'"}},
		{"value must be a string: float", view(`<Text name="t" value=" 1.50 "/>`),
			[]string{"Validation failed on View/Text/@value: 1.5 is not of type 'string'"}},
		{"infinite float stays a string", view(`<Text name="t" value="1e999"/><Text name="u" value="nan"/>`), nil},
		{"name of Text is not type-checked", view(`<Text name="1" value="$t"/>`), nil},
		{"several Text tags are an array", view(`<Text name="a" value="$a"/><Text name="b"/>`),
			[]string{"Validation failed on View/Text/1: 'value' is a required property"}},
		{"text content must be a string", view(`<Text name="t" value="$t"> 42 </Text>`),
			[]string{"Validation failed on View/Text/$: 42 is not of type 'string'"}},
		{"labels name must be a string", view(`<Text name="t" value="$t"/><Labels name="1" toName="t"><Label value="A"/></Labels>`),
			[]string{"Validation failed on View/Labels/@name: 1 is not of type 'string'"}},
		{"choices without name", view(`<Text name="t" value="$t"/><Choices toName="t"><Choice value="A"/><Choice value="B"/></Choices>`),
			[]string{"Validation failed on View/Choices: 'name' is a required property"}},
		{"choices without choice or view", view(`<Text name="t" value="$t"/><Choices name="c" toName="t"/>`),
			[]string{"Validation failed on View/Choices: 'Choice' or 'View' is a required property"}},
		{"choices with a view instead of choices", view(`<Text name="t" value="$t"/><Choices name="c" toName="t"><View><Choice value="A"/></View></Choices>`), nil},
		{"choice in nested view needs a string value", view(`<Text name="t" value="$t"/><Choices name="c" toName="t"><View><Choice value="7"/></View></Choices>`),
			[]string{"Validation failed on View/Choices/View/Choice/@value: 7 is not of type 'string'"}},
		{"label directly in root view is unchecked", view(`<Label value="1"/>`), nil},
		{"label in nested view needs a value", view(`<View><Label/></View>`),
			[]string{"Validation failed on View/View/Label: 'value' is a required property"}},
		{"nested views are arrays", view(`<View/><View><Text name="t"/></View>`),
			[]string{"Validation failed on View/View/1/Text: 'value' is a required property"}},
		{"inside unchecked tags nothing is checked", view(`<Image name="i" value="$i"/><Header><Text name="x"/></Header>`), nil},
		{"filter may point at a control", view(`<Text name="t" value="$t"/><Filter name="f" toName="l"/><Labels name="l" toName="t"><Label value="A"/></Labels>`), nil},
		{"toName must be an input tag", view(`<Text name="t" value="$t"/><Labels name="l" toName="t"><Label value="A"/></Labels><TextArea name="a" toName="l"/>`),
			[]string{"to_name=l is specified for output tag name=a, but we can't find it among input tags"}},
		{"several toName items", view(`<Text name="a" value="$a"/><Pairwise name="p" toName="a,b,a"/>`),
			[]string{`toName="b" not found in names: ['a', 'p']`}},
		{"names in comments are not collected", `<View><!-- name="t" --><Text name="t" value="$t"/></View>`, nil},
		{"schema runs before unique names", view(`<Text name="t"/><Text name="t" value="$t"/>`),
			[]string{"Validation failed on View/Text/0: 'value' is a required property"}},
		{"xml declaration with encoding is accepted", `<?xml version="1.0" encoding="ISO-8859-1"?>` + "\n" + view(``), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate(tt.config)
			got := errorMessages(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Validate(%s)\n got: %q\nwant: %q", tt.config, got, tt.want)
			}
		})
	}
}

// TestParseErrors checks well-formedness errors: each gives exactly one
// message containing the expected text and a position.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"empty", "", "Document is empty"},
		{"blank", " \n ", "Document is empty"},
		{"not xml", "hello", "Start tag expected"},
		{"mismatched tags", "<View></Viewx>", "Opening and ending tag mismatch: View line 1 and Viewx, line 1, column 9"},
		{"unclosed", "<View><Text>", "Premature end of data in tag Text"},
		{"two roots", "<View/><View/>", "Extra content at the end of the document"},
		{"text after root", "<View/>x", "Extra content at the end of the document"},
		{"duplicate attribute", `<View a="1" a="2"/>`, "Attribute a redefined"},
		{"unquoted attribute", `<View a=1/>`, "AttValue"},
		{"attribute without value", `<View a/>`, "Specification mandates value for attribute a"},
		{"missing space between attributes", `<View a="1"b="2"/>`, "attributes construct error"},
		{"lt in attribute", `<View a="<"/>`, "Unescaped '<'"},
		{"undefined entity", `<View>&nbsp;</View>`, "Entity 'nbsp' not defined"},
		{"bad char ref", `<View>&#0;</View>`, "invalid xmlChar value 0"},
		{"control char", "<View>\x01</View>", "Char 0x1 out of allowed range"},
		{"invalid utf-8", "<View>\xff</View>", "Input is not proper UTF-8"},
		{"double hyphen in comment", `<View><!-- a -- b --></View>`, "Double hyphen within comment"},
		{"cdata end in text", `<View>]]></View>`, "Sequence ']]>' not allowed in content"},
		{"late xml declaration", `<View><?xml version="1.0"?></View>`, "XML declaration allowed only at the start"},
		{"bad element name", `<1View/>`, "invalid element name"},
		{"unterminated comment", `<View><!-- </View>`, "Comment not terminated"},
		{"second doctype", `<!DOCTYPE a><!DOCTYPE b><View/>`, "Extra content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, fn := range []func(string) (*Config, error){Parse, Validate} {
				c, err := fn(tt.config)
				msgs := errorMessages(t, err)
				if c != nil || len(msgs) != 1 || !strings.Contains(msgs[0], tt.want) {
					t.Fatalf("got %q, want one message containing %q", msgs, tt.want)
				}
			}
		})
	}
}

// TestParseAccepts checks XML constructs that must parse.
func TestParseAccepts(t *testing.T) {
	for _, config := range []string{
		"\uFEFF<View/>",
		`<?xml version="1.0"?><View/>`,
		"<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n<!-- c --><!DOCTYPE View [<!ELEMENT View ANY> <!-- x> -->]>\n<?pi data?><View/>\n<!-- after -->\n",
		`<View a='single "quoted"' b="&lt;&amp;&#x41;&#66;"><![CDATA[<not markup>]]></View>`,
		`<ns:View xmlns:ns="urn:x"><ns:Text/></ns:View>`, `<View xmlns:a="urn:a"><a:T a:x="1"/></View>`,
		"<View\n\ta = \"1\"\r\n/>",
	} {
		if _, err := Parse(config); err != nil {
			t.Errorf("Parse(%q): %v", config, err)
		}
	}
}

func TestParseModelValues(t *testing.T) {
	c, err := Parse("<View>\r\n  <Header value=\"a&amp;b&#10;c\r\nd\te\">x &lt; y<![CDATA[ & z]]><!-- c -->tail</Header>\n</View>")
	if err != nil {
		t.Fatal(err)
	}
	h := c.Root().Children[0]
	if v, _ := h.Attr("value"); v != "a&b\ncd e" {
		t.Errorf("line-semantics value = %q", v)
	}
	if v := h.attr("value").xmlValue(); v != "a&b\nc d e" {
		t.Errorf("xml-semantics value = %q", v)
	}
	if h.Text != "x < y & z" {
		t.Errorf("leading text = %q", h.Text)
	}
	if h.Line != 2 || h.Parent != c.Root() || c.Root().Line != 1 {
		t.Errorf("line %d, parent %p", h.Line, h.Parent)
	}
}

// TestLimits checks that each limit gives a clear error, not a panic.
func TestLimits(t *testing.T) {
	deep := strings.Repeat("<View>", MaxDepth+1) + strings.Repeat("</View>", MaxDepth+1)
	okDeep := strings.Repeat("<View>", MaxDepth) + strings.Repeat("</View>", MaxDepth)
	many := "<View>" + strings.Repeat("<a/>", MaxElements) + "</View>"
	okMany := "<View>" + strings.Repeat("<a/>", MaxElements-1) + "</View>"
	big := "<View>" + strings.Repeat(" ", MaxConfigSize) + "</View>"
	tests := []struct {
		name, config, want string
	}{
		{"too deep", deep, fmt.Sprintf("the limit is %d levels", MaxDepth)},
		{"too many elements", many, fmt.Sprintf("too many elements: the limit is %d", MaxElements)},
		{"too large", big, fmt.Sprintf("the limit is %d bytes", MaxConfigSize)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Validate(tt.config)
			msgs := errorMessages(t, err)
			if len(msgs) != 1 || !strings.Contains(msgs[0], tt.want) {
				t.Fatalf("got %q, want %q", msgs, tt.want)
			}
		})
	}
	for _, config := range []string{okDeep, okMany} {
		if _, err := Validate(config); err != nil {
			t.Errorf("config at the limit rejected: %v", err)
		}
	}
}

func TestMessageCap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<View><Text name="t" value="$t"/><Choices name="c" toName="t">`)
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&b, `<Choice value="%d"/>`, i)
	}
	b.WriteString(`</Choices></View>`)
	msgs := errorMessages(t, func() error { _, err := Validate(b.String()); return err }())
	if len(msgs) != MaxMessages || msgs[MaxMessages-1] != "... and 31 more problems" {
		t.Fatalf("%d messages, last %q", len(msgs), msgs[len(msgs)-1])
	}
}

func TestNonUniqueNamesLongList(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<View>`)
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&b, `<Text name="t%d" value="$t"/>`, i%140)
	}
	b.WriteString(`</View>`)
	msgs := errorMessages(t, func() error { _, err := Validate(b.String()); return err }())
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "Label config contains non-unique names: ['t0', 't1',") {
		t.Fatalf("got %q", msgs)
	}
}

func TestDoctypes(t *testing.T) {
	for _, ok := range []string{
		`<!DOCTYPE View><View/>`,
		`<!DOCTYPE View SYSTEM "v.dtd"><View/>`,
		`<!DOCTYPE View PUBLIC "-//x//y" 'v.dtd' [ ]><View/>`,
		"<!DOCTYPE View [\n <!ELEMENT View ANY>\n <!ATTLIST View a CDATA \"x>y\">\n <!-- it's -->\n <?pi it's?>\n %pe;\n <!ENTITY é \"ü\">\n]>\n<View/>",
	} {
		if _, err := Validate(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{
		`<!DOCTYPE A0<0><View/>`,
		`<!DOCTYPE View SYSTEM><View/>`,
		`<!DOCTYPE View [<View>]><View/>`,
		`<!DOCTYPE View [<!ELEMENT View ANY>`,
		`<!DOCTYPE View "x"><View/>`,
		`<!DOCTYPEView><View/>`,
	} {
		if _, err := Validate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNamespaces(t *testing.T) {
	for _, ok := range []string{
		`<ns:View xmlns:ns="urn:x"><ns:Text ns:a="1"/></ns:View>`,
		`<View xmlns="urn:default" xml:lang="en"><a:T xmlns:a="urn:a"/><b:T xmlns:b="urn:b"/></View>`,
	} {
		if _, err := Validate(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{
		`<a:View/>`,
		`<View><a:T xmlns:a="urn:a"/><a:T/></View>`,
		`<View a:b="1"/>`,
		`<::/>`,
		`<a:b:c xmlns:a="u"/>`,
		`<View xmlns:a=""/>`,
		`<xmlns:View/>`,
	} {
		if _, err := Validate(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
