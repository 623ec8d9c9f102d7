package server

import (
	"testing"

	json "github.com/goccy/go-json"
)

// FuzzPrepareTask checks that item validation never panics, and that an
// accepted item gives data that is a JSON object holding the config's key.
func FuzzPrepareTask(f *testing.F) {
	for _, s := range []string{`{"text":"a"}`, `{"data":{"$undefined$":"x","text":"y"}}`, `{"data":{"text":1},"completions":[{"result":[]}],"predictions":[{"result":[],"score":1}]}`, `{"data":[]}`, `{"meta":1,"data":{}}`, `[]`, `{"te\u0078t":"esc"}`} {
		f.Add([]byte(s))
	}
	cfg := mustParseConfig(f, textConfig)
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return // the parsers hand over valid JSON only
		}
		nt, _, reasons := prepareTask(in, cfg, "text")
		if len(reasons) > 0 {
			return
		}
		var data map[string]json.RawMessage
		if err := json.Unmarshal(nt.Data, &data); err != nil {
			t.Fatalf("%q: data %q: %v", in, nt.Data, err)
		}
		if _, ok := data["text"]; !ok {
			t.Fatalf("%q: accepted without the text key: %s", in, nt.Data)
		}
		if _, ok := data[undefinedKey]; ok {
			t.Fatalf("%q: $undefined$ left: %s", in, nt.Data)
		}
	})
}
