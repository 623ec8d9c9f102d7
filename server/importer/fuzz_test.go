package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzJSONStream checks the streaming JSON reader against encoding/json:
// it accepts exactly the UTF-8 texts whose top-level value is an array or
// an object, and gives the same elements.
func FuzzJSONStream(f *testing.F) {
	for _, s := range []string{`[]`, `[1,"a",{"b":[null]}]`, `{"a":"]"}`, `[1,]`, ` [ {"x":"\"}"} ] `, "\ufeff[1]", `null`, `"s"`, `[{"a":1}}]`, `[[[[`, `{"a":1}x`, "[\"\xff\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var items [][]byte
		err := JSONItems(bytes.NewReader(in), 0, func(item []byte) error {
			items = append(items, bytes.Clone(item))
			return nil
		})
		doc := bytes.TrimPrefix(in, []byte("\ufeff"))
		trimmed := bytes.TrimLeft(doc, " \t\r\n")
		valid := json.Valid(doc) && utf8.Valid(doc)
		composite := len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{')
		if (err == nil) != (valid && composite) {
			t.Fatalf("%q: err %v, json.Valid %v", in, err, valid)
		}
		if err != nil {
			return
		}
		var want []json.RawMessage
		if trimmed[0] == '[' {
			if e := json.Unmarshal(doc, &want); e != nil {
				t.Fatal(e)
			}
		} else {
			want = []json.RawMessage{doc}
		}
		if len(want) != len(items) {
			t.Fatalf("%q: %d items, want %d", in, len(items), len(want))
		}
		for i := range want {
			var a, b bytes.Buffer
			json.Compact(&a, want[i])
			json.Compact(&b, items[i])
			if a.String() != b.String() {
				t.Fatalf("%q item %d: %q want %q", in, i, b.String(), a.String())
			}
		}
	})
}

// splitlines is Python's bytes.splitlines.
func splitlines(b []byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\n':
			out = append(out, string(b[start:i]))
			start = i + 1
		case '\r':
			out = append(out, string(b[start:i]))
			if i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, string(b[start:]))
	}
	return out
}

// FuzzTXT checks the line splitter against a plain splitlines.
func FuzzTXT(f *testing.F) {
	for _, s := range []string{"", "a", "a\nb\n", "a\r\n\rb", "\r", "\n\n", "é\r\n", "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var got []string
		err := TXTLines(bytes.NewReader(in), 0, func(line []byte) error {
			got = append(got, string(line))
			return nil
		})
		want := splitlines(bytes.TrimPrefix(in, []byte("\ufeff")))
		if !utf8.Valid(in) {
			if err == nil {
				t.Fatalf("%q: non-UTF-8 accepted", in)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") || len(got) != len(want) {
			t.Fatalf("%q: %q want %q", in, got, want)
		}
	})
}

// FuzzCSV checks that the CSV reader never panics, gives valid JSON
// objects, and one per data row encoding/csv reads.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\n\"x\"\"y\"\n", "a,a,\n1,2.5,True\n,,\n", "a\n\"open", "h\n1e5\n-0\n", "\ufeffx\n\xff\n"} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, tsv bool) {
		comma := ','
		if tsv {
			comma = '\t'
		}
		rows := 0
		err := CSVRecords(func() (io.Reader, error) { return bytes.NewReader(in), nil }, comma, 1<<20, func(data []byte) error {
			var m map[string]any
			if e := json.Unmarshal(data, &m); e != nil {
				t.Fatalf("%q: row %q is not a JSON object: %v", in, data, e)
			}
			rows++
			return nil
		})
		if err != nil {
			return
		}
		r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(in, []byte("\ufeff"))))
		r.Comma = comma
		r.FieldsPerRecord = -1
		recs, e := r.ReadAll()
		if e != nil {
			t.Fatalf("%q: accepted, but encoding/csv says %v", in, e)
		}
		if len(recs) > 0 && rows != len(recs)-1 {
			t.Fatalf("%q: %d rows, encoding/csv reads %d records", in, rows, len(recs))
		}
	})
}

// FuzzMinifyHTML checks that minifying never panics nor grows the text.
func FuzzMinifyHTML(f *testing.F) {
	for _, s := range []string{"<p> a </p>", "<pre> x </pre>", "<!-- > -->", "<a b='>'>", "<"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if out := MinifyHTML(in); len(out) > len(in) {
			t.Fatalf("%q grew to %q", in, out)
		}
	})
}

// FuzzZip feeds arbitrary bytes to the archive reader: errors are fine,
// panics and runaway reads are not.
func FuzzZip(f *testing.F) {
	f.Add(makeZip(f, zipEntry{name: "a.txt", body: "x\ny"}, zipEntry{name: "d/b.json", body: `[{"a":1}]`}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		s := &testSink{}
		p := NewProcessor(Config{DataKeys: 1, TempDir: dir, Limits: Limits{MaxArchiveTotalSize: 1 << 20, MaxArchiveEntries: 100}}, s)
		p.File("f.zip", bytes.NewReader(in)) //nolint:errcheck // any error is fine
	})
}

// FuzzObjectMembers checks the member iterator against encoding/json on
// valid objects, and that it never panics on anything.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,{"c":"}"}],"d":"x\"y"}`, `{"a\u0062":null}`, `{"a":1,"a":2}`, `{"a" : { } }`, `{"a":}`, `{"a"`, `[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got := map[string]string{}
		err := ObjectMembers(in, func(rawKey, value []byte) error {
			k, ok := UnquoteKey(rawKey)
			if !ok {
				return errNotObject
			}
			got[k] = string(value)
			return nil
		})
		var want map[string]json.RawMessage
		if !json.Valid(in) || json.Unmarshal(in, &want) != nil || want == nil || !utf8.Valid(in) {
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d members, want %d", in, len(got), len(want))
		}
		for k, v := range want {
			if got[k] != string(v) {
				t.Fatalf("%q: member %q = %q, want %q", in, k, got[k], v)
			}
		}
	})
}
