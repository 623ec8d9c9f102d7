package labelconfig

import "testing"

// TestLineConfigBytes covers config.md §2: without comments the line config
// is the stored text with every \n and \r deleted, byte for byte, except that
// a line break that alone separates two attributes becomes one space.
func TestLineConfigBytes(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no line breaks is unchanged", `<View><Text name="t" value="$t"/></View>`, `<View><Text name="t" value="$t"/></View>`},
		{"indentation kept", "<View>\n  <Text name=\"t\" value=\"$t\"/>\n</View>\n", "<View>  <Text name=\"t\" value=\"$t\"/></View>"},
		{"CRLF and lone CR deleted", "<View>\r\n<Text name=\"t\" value=\"$t\"/>\r</View>", "<View><Text name=\"t\" value=\"$t\"/></View>"},
		{"glue hazard after tag name", "<View><Choice\nvalue=\"A\"/></View>", "<View><Choice value=\"A\"/></View>"},
		{"glue hazard between attributes", "<Text name=\"t\"\nvalue=\"$t\"/>", "<Text name=\"t\" value=\"$t\"/>"},
		{"CRLF run between attributes", "<Text name='t'\r\n\r\nvalue='$t'/>", "<Text name='t' value='$t'/>"},
		{"break followed by indentation is deleted", "<Text name=\"t\"\n      value=\"$t\"/>", "<Text name=\"t\"      value=\"$t\"/>"},
		{"break preceded by a space is deleted", "<Text name=\"t\" \nvalue=\"$t\"/>", "<Text name=\"t\" value=\"$t\"/>"},
		{"break before end of tag", "<Text name=\"t\"\n/><A\n></A\n>", "<Text name=\"t\"/><A></A>"},
		{"break around equals", "<Text name\n=\n\"t\"/>", "<Text name=\"t\"/>"},
		{"break inside a value is deleted", "<Header value=\"Create and\n   select\"/>", "<Header value=\"Create and   select\"/>"},
		{"break inside a single-quoted value with a double quote", "<H value='a\"\nb'/>", "<H value='a\"b'/>"},
		{"break in text is deleted", "<Header>a\nb</Header>", "<Header>ab</Header>"},
		{"declaration kept", "<?xml version=\"1.0\"?>\n<View/>\n", "<?xml version=\"1.0\"?><View/>"},
		{"declaration glue hazard", "<?xml version=\"1.0\"\nencoding=\"UTF-8\"?><View/>", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><View/>"},
		{"cdata keeps no breaks", "<H><![CDATA[a\nb]]></H>", "<H><![CDATA[ab]]></H>"},
		{"quoting, self-closing and spacing kept", "<View a='1' >\n<Text  b = \"2\" />\n</View >", "<View a='1' ><Text  b = \"2\" /></View >"},
		{"malformed input still stripped", "<View\n<Text\nname=\"x", "<View <Text name=\"x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LineConfig(tt.in); got != tt.want {
				t.Errorf("LineConfig(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if got := FullConfig(tt.in); got != tt.in {
				t.Errorf("FullConfig changed a config without comments: %q", got)
			}
		})
	}
}

// TestFullConfigComments: a config with comments is re-serialized without
// them; the root element's text is otherwise kept.
func TestFullConfigComments(t *testing.T) {
	tests := []struct {
		name, in, full, line string
	}{
		{
			name: "meta comment, own-line and inline comments",
			in: "<!-- {\"title\": \"x\"} -->\n<View>\n  <!-- own line -->\n  <Text name=\"t\" value=\"$t\"/> <!-- inline -->\n" +
				"  <Header value=\"h\"/>\n</View>\n<!-- after -->\n",
			full: "<View>\n  <Text name=\"t\" value=\"$t\"/> \n  <Header value=\"h\"/>\n</View>",
			line: "<View>  <Text name=\"t\" value=\"$t\"/>   <Header value=\"h\"/></View>",
		},
		{
			name: "declaration and doctype dropped",
			in:   "<?xml version=\"1.0\"?>\r\n<!DOCTYPE View>\r\n<View>\r\n\t<!-- c -->\r\n\t<Text\r\nname=\"t\"/>\r\n</View>",
			full: "<View>\r\n\t<Text\r\nname=\"t\"/>\r\n</View>",
			line: "<View>\t<Text name=\"t\"/></View>",
		},
		{
			name: "comment between text keeps the text",
			in:   "<View><Header>a<!-- c -->b</Header></View>",
			full: "<View><Header>ab</Header></View>",
			line: "<View><Header>ab</Header></View>",
		},
		{
			name: "two comments on consecutive lines",
			in:   "<View>\n<!-- a -->\n<!-- b -->\n<Text/>\n</View>",
			full: "<View>\n<Text/>\n</View>",
			line: "<View><Text/></View>",
		},
		{
			name: "comment-like text in CDATA is not a comment",
			in:   "<View><![CDATA[<!-- x -->]]></View>",
			full: "<View><![CDATA[<!-- x -->]]></View>",
			line: "<View><![CDATA[<!-- x -->]]></View>",
		},
		{
			name: "malformed config with a comment is unchanged",
			in:   "<View><!-- c --></Viewx>",
			full: "<View><!-- c --></Viewx>",
			line: "<View><!-- c --></Viewx>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FullConfig(tt.in); got != tt.full {
				t.Errorf("FullConfig\n got %q\nwant %q", got, tt.full)
			}
			if got := LineConfig(tt.in); got != tt.line {
				t.Errorf("LineConfig\n got %q\nwant %q", got, tt.line)
			}
			if c, err := Parse(tt.in); err == nil {
				if c.Full() != tt.full || c.Line() != tt.line || c.Raw() != tt.in {
					t.Errorf("methods disagree: %q %q", c.Full(), c.Line())
				}
			}
		})
	}
}

// TestModelUsesLineSemantics: attribute values in the model are those of
// the line config, which is what the frontend produces results from.
func TestModelUsesLineSemantics(t *testing.T) {
	raw := "<View><Text name=\"t\" value=\"$t\"/><Choices name=\"c\" toName=\"t\">" +
		"<Choice value=\"Very\n  good\"/><Choice value=\"Bad\"/></Choices></View>"
	c, err := Validate(raw)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := c.Control("c")
	line, err := Parse(c.Line())
	if err != nil {
		t.Fatal(err)
	}
	lt, _ := line.Control("c")
	if ct.Labels[0] != "Very  good" || lt.Labels[0] != ct.Labels[0] {
		t.Errorf("labels %q vs line config %q", ct.Labels, lt.Labels)
	}
}
