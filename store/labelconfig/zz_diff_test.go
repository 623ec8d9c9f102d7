package labelconfig

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

func FuzzDiffStd(f *testing.F) {
	addSeeds(f)
	f.Add(`<a b="&#x10FFFF;"/>`)
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := Parse(text); err != nil {
			return
		}
		s := strings.TrimPrefix(text, "\uFEFF")
		d := xml.NewDecoder(strings.NewReader(s))
		d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
		for {
			_, err := d.Token()
			if err == io.EOF {
				return
			}
			if err != nil {
				if strings.Contains(err.Error(), "xmlns") || strings.Contains(err.Error(), "prefix") || strings.Contains(err.Error(), "invalid XML name") || strings.Contains(err.Error(), "invalid character entity") {
					return
				}
				t.Fatalf("we accept, encoding/xml says %v: %q", err, text)
			}
		}
	})
}
