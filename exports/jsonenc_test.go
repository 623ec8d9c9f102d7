package exports

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestAppendPyFloat(t *testing.T) {
	tenth, fifth := 0.1, 0.2 // variables: constant arithmetic would be exact
	// Expected values are Python 3 repr() results.
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{20, "20.0"}, {0, "0.0"}, {-0.5, "-0.5"}, {1600, "1600.0"}, {tenth + fifth, "0.30000000000000004"},
		{1e16, "1e+16"}, {1.5e-5, "1.5e-05"}, {0.0001, "0.0001"}, {123456789012345.6, "123456789012345.6"},
		{math.NaN(), "null"}, {math.Inf(-1), "null"},
	} {
		if got := string(appendPyFloat(nil, tc.f)); got != tc.want {
			t.Errorf("appendPyFloat(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestAppendPyLayouts(t *testing.T) {
	v := json.RawMessage(` {"b":[1,{"x":"é\u2028\n\"q\"\\"}],"a":{},"c":[ ],"d":null,"e":true,"f":"\ud83d\ude00"} `)
	// json.dumps(v) in Python, keys kept in order
	compact := `{"b": [1, {"x": "\u00e9\u2028\n\"q\"\\"}], "a": {}, "c": [], "d": null, "e": true, "f": "\ud83d\ude00"}`
	if got, _ := appendPy(nil, v, styleCompactASCII, 0); string(got) != compact {
		t.Errorf("compact ascii:\n got %s\nwant %s", got, compact)
	}
	// json.dumps(v, indent=2, ensure_ascii=False)
	indented := "{\n  \"b\": [\n    1,\n    {\n      \"x\": \"é\u2028\\n\\\"q\\\"\\\\\"\n    }\n  ],\n  \"a\": {},\n  \"c\": [],\n  \"d\": null,\n  \"e\": true,\n  \"f\": \"😀\"\n}"
	if got, _ := appendPy(nil, v, styleIndentUTF8, 0); string(got) != indented {
		t.Errorf("indented utf8:\n got %s\nwant %s", got, indented)
	}
	if got, _ := appendPy(nil, json.RawMessage(`"\u0001x"`), styleCompactUTF8, 0); string(got) != `"\u0001x"` {
		t.Errorf("control character: %s", got)
	}
	if _, err := appendPy(nil, json.RawMessage(`{"a":`), styleCompactUTF8, 0); err == nil {
		t.Error("broken JSON accepted")
	}
}

func TestObjectMembersKeepsOrder(t *testing.T) {
	m, err := objectMembers([]byte(`{"z":1,"a":[2],"m":{"k":3}}`))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, x := range m {
		keys = append(keys, x.Key)
	}
	if len(keys) != 3 || keys[0] != "z" || keys[1] != "a" || keys[2] != "m" {
		t.Errorf("keys %v", keys)
	}
	m = m.set("a", int64(5)).set("new", "v")
	if v, _ := m.get("a"); v != int64(5) || len(m) != 4 || m[3].Key != "new" {
		t.Errorf("set: %v", m)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{`, ``} {
		if _, err := objectMembers([]byte(bad)); err == nil {
			t.Errorf("objectMembers(%q) accepted", bad)
		}
	}
}

// FuzzAppendPyRaw checks the scanner against encoding/json: valid JSON is
// re-written to equal, valid JSON in every style; anything else is an error.
func FuzzAppendPyRaw(f *testing.F) {
	for _, seed := range []string{`{"a":[1,2.5e-3,-0,true,null,"x\u00e9\ud83d\ude00"]}`, `"\ud800\u0041"`, `01`, `1.`, `+1`, `[1,]`, `{"a" 1}`, "\"\xff\"", ` [ ] `} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, st := range []pyStyle{styleIndentUTF8, styleIndentASCII, styleCompactASCII, styleCompactUTF8} {
			out, err := appendPyRaw(nil, in, st, 0)
			if !json.Valid(in) {
				if err == nil {
					t.Fatalf("invalid JSON %q accepted as %q", in, out)
				}
				continue
			}
			if err != nil {
				t.Fatalf("valid JSON %q rejected: %v", in, err)
			}
			var a, b any
			if json.Unmarshal(in, &a) != nil {
				// Valid JSON that Go cannot hold (a number such as 1e1000):
				// the output must still be valid JSON.
				if !json.Valid(out) {
					t.Fatalf("%q re-written as invalid %q", in, out)
				}
				continue
			}
			if json.Unmarshal(out, &b) != nil {
				t.Fatalf("%q re-written as invalid %q", in, out)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("%q re-written as %q: %v != %v", in, out, a, b)
			}
		}
	})
}
