package labelconfig

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func FuzzDiffStdReverse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, text string) {
		_, err := Parse(text)
		if err == nil {
			return
		}
		d := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(text, "\uFEFF")))
		d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
		depth, roots := 0, 0
		for {
			tok, e := d.RawToken()
			if e == io.EOF {
				break
			}
			if e != nil {
				return
			}
			switch tk := tok.(type) {
			case xml.StartElement:
				if depth == 0 {
					roots++
				}
				depth++
			case xml.EndElement:
				depth--
			case xml.CharData:
				if depth == 0 && strings.TrimSpace(string(tk)) != "" {
					return
				}
			}
		}
		if roots != 1 || depth != 0 {
			return
		}
		msg := err.Error()
		for _, known := range []string{"redefined", "Extra content", "XML declaration", "QName", "Namespace prefix", "Char 0x",
			"mismatch", "xmlns", "Premature", "DOCTYPE", "Markup declaration", "PI ", "Comment", "comment", "declaration", "CharRef", "xmlChar", "Entity", "attributes construct"} {
			if strings.Contains(msg, known) {
				return
			}
		}
		t.Fatalf("we reject %q: %v", text, err)
	})
}
