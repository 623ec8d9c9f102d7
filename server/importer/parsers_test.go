package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func jsonItems(t testing.TB, in string) ([]string, error) {
	t.Helper()
	var out []string
	err := JSONItems(strings.NewReader(in), 1<<20, func(item []byte) error {
		out = append(out, string(item))
		return nil
	})
	return out, err
}

func TestJSONItems(t *testing.T) {
	rows := []struct {
		in   string
		want []string
		err  string
	}{
		{in: `[{"a":1},{"b":"x]}"}]`, want: []string{`{"a":1}`, `{"b":"x]}"}`}},
		{in: "\ufeff [ 1 , \"s\" , null , [1,[2]] , {\"k\":{\"v\":[]}} ] \n", want: []string{`1`, `"s"`, `null`, `[1,[2]]`, `{"k":{"v":[]}}`}},
		{in: `{"text":"a\"b\\"}`, want: []string{`{"text":"a\"b\\"}`}},
		{in: `[]`, want: nil},
		{in: `  `, err: "the file is empty"},
		{in: ``, err: "the file is empty"},
		{in: `null`, err: "null is not allowed"},
		{in: `"x"`, err: "not a string"},
		{in: `42`, err: "not a number"},
		{in: `true`, err: "not a boolean"},
		{in: `[1,]`, err: "trailing commas"},
		{in: `[1 2]`, err: "',' or ']' is expected"},
		{in: `[{"a":1}`, err: "not closed"},
		{in: `[{"a":1`, err: "unexpected end of the input inside the item"},
		{in: `[{"a":tru}]`, err: "item 0"},
		{in: `[{"a":1}] x`, err: "unexpected data after"},
		{in: `{"a":1}{"b":2}`, err: "unexpected data after"},
		{in: `[{"a":1}}]`, err: "',' or ']' is expected"},
		{in: `[{"a":]}]`, err: "item 0"},
		{in: "[\"\xff\"]", err: "not valid UTF-8"},
		{in: `[,1]`, err: "a value is expected"},
		{in: `nul`, err: "invalid"},
	}
	for _, r := range rows {
		got, err := jsonItems(t, r.in)
		if r.err != "" {
			if err == nil || !strings.Contains(err.Error(), r.err) {
				t.Errorf("%q: error %v, want %q", r.in, err, r.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", r.in, err)
			continue
		}
		if strings.Join(got, "|") != strings.Join(r.want, "|") {
			t.Errorf("%q: got %q want %q", r.in, got, r.want)
		}
	}
}

func TestJSONItemsSmallReads(t *testing.T) {
	in := `[{"a":"x,y]"},{"b":[1,2,{"c":"\"}"}]}, 3.5e2 ]`
	var got []string
	err := JSONItems(iotest.OneByteReader(strings.NewReader(in)), 0, func(item []byte) error {
		got = append(got, string(item))
		return nil
	})
	if err != nil || len(got) != 3 || got[2] != "3.5e2" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestJSONItemsLimitAndCallback(t *testing.T) {
	err := JSONItems(strings.NewReader(`[{"a":"0123456789"}]`), 8, func([]byte) error { return nil })
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "item 0 is larger than the limit of 8 bytes") {
		t.Fatalf("%v", err)
	}
	stop := errors.New("stop")
	err = JSONItems(strings.NewReader(`[1,2]`), 0, func([]byte) error { return stop })
	var ce *CallbackError
	if !errors.As(err, &ce) || ce.Err != stop {
		t.Fatalf("%v", err)
	}
}

func txtLines(in string) ([]string, error) {
	var out []string
	err := TXTLines(strings.NewReader(in), 0, func(line []byte) error {
		out = append(out, string(line))
		return nil
	})
	return out, err
}

func TestTXTLines(t *testing.T) {
	rows := map[string][]string{
		"a\nb\n":        {"a", "b"},
		"a\n\nb":        {"a", "", "b"},
		"a\r\nb\rc":     {"a", "b", "c"},
		"\n":            {""},
		"":              nil,
		"x":             {"x"},
		"\r\n\r\n":      {"", ""},
		"\r\r\n":        {"", ""},
		"\ufeffé\n":     {"é"},
		"tab\there\x0b": {"tab\there\x0b"},
	}
	for in, want := range rows {
		got, err := txtLines(in)
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("%q: got %q (%v) want %q", in, got, err, want)
		}
	}
	if _, err := txtLines("ok\nbad\xff\n"); err == nil || !strings.Contains(err.Error(), "line 2: the text is not valid UTF-8") {
		t.Errorf("non-UTF-8: %v", err)
	}
	err := TXTLines(strings.NewReader("short\n0123456789\n"), 5, func([]byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "line 2 is larger than the limit of 5 bytes") {
		t.Errorf("long line: %v", err)
	}
	// \r\n split across reads.
	var got []string
	err = TXTLines(iotest.OneByteReader(strings.NewReader("a\r\nb")), 0, func(l []byte) error { got = append(got, string(l)); return nil })
	if err != nil || strings.Join(got, "|") != "a|b" {
		t.Errorf("one-byte reads: %q %v", got, err)
	}
}

func csvRows(t testing.TB, in string, comma rune) ([]string, error) {
	t.Helper()
	var out []string
	err := CSVRecords(func() (io.Reader, error) { return strings.NewReader(in), nil }, comma, 1<<20, func(data []byte) error {
		if !json.Valid(data) {
			t.Fatalf("invalid JSON %q", data)
		}
		out = append(out, string(data))
		return nil
	})
	return out, err
}

func TestCSVRecordsTyping(t *testing.T) {
	in := "int,intgap,float,bool,str,empty,mixed\n" +
		"1,2,0.5,True,a,,1\n" +
		"-3,,1e20,false,\"b,\"\"c\"\"\",,x\n" +
		"007,4,2,TRUE,NA,,2.5\n"
	got, err := csvRows(t, in, ',')
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"int":1,"intgap":2.0,"float":0.5,"bool":true,"str":"a","empty":"","mixed":"1"}`,
		`{"int":-3,"intgap":"","float":1e+20,"bool":false,"str":"b,\"c\"","empty":"","mixed":"x"}`,
		`{"int":7,"intgap":4.0,"float":2.0,"bool":true,"str":"NA","empty":"","mixed":"2.5"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCSVRecordsShapes(t *testing.T) {
	got, err := csvRows(t, "\ufeffa,a,,b\tc\n1,2\n\n3,4,5,6\n", ',')
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != `{"a":1,"a.1":2,"Unnamed: 2":"","b\tc":""}` {
		t.Fatalf("%q", got)
	}
	got, err = csvRows(t, "text\tn\nhello, world\t1\n", '\t')
	if err != nil || len(got) != 1 || got[0] != `{"text":"hello, world","n":1}` {
		t.Fatalf("tsv: %q %v", got, err)
	}
	if got, err := csvRows(t, "a,b\n", ','); err != nil || len(got) != 0 {
		t.Fatalf("header only: %q %v", got, err)
	}
	errRows := map[string]string{
		"":                "the file is empty",
		"\n\n":            "the file is empty",
		"a,b\n1,2,3\n":    "line 2: expected 2 fields as in the header, saw 3",
		"a\n\"unclosed\n": `extraneous or missing " in quoted-field`,
		"a\nx\"y\n":       `bare " in non-quoted-field`,
		"a\nok\n\xff\n":   "line 3: the text is not valid UTF-8",
		"\xffa,b\n1,2\n":  "header is not valid UTF-8",
		"a\n" + strings.Repeat("x", 2<<20) + "\n": "larger than the limit",
	}
	for in, want := range errRows {
		_, err := csvRows(t, in, ',')
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: %v, want %q", in, err, want)
		}
	}
}

func TestPyFloat(t *testing.T) {
	rows := map[float64]string{1: "1.0", 0.1: "0.1", 1e16: "1e+16", 1e15: "1000000000000000.0", 1.5e-5: "1.5e-05", 0.0001: "0.0001", -2.5: "-2.5", 123456789.125: "123456789.125"}
	for f, want := range rows {
		if got := string(AppendPyFloat(nil, f)); got != want {
			t.Errorf("%v: %s want %s", f, got, want)
		}
	}
}

func TestMinifyHTML(t *testing.T) {
	in := "<html>\n  <body>\n    <p class=\"a > b\">Hello,\n   world</p>\n <pre>  keep\n me </pre>\n<!-- a > b -->\n</body>\n</html>\n"
	want := `<html><body><p class="a > b">Hello, world</p><pre>  keep` + "\n" + ` me </pre><!-- a > b --></body></html>`
	if got := string(MinifyHTML([]byte(in))); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	for _, in := range []string{"<", "<a", "a<", "<!--", "<pre>", "</pre>", "<'", "<a b='>"} {
		MinifyHTML([]byte(in))
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\x00\x01\x1f\n\r\t", "é✓😀", "</script>\u2028"} {
		var back string
		b := AppendJSONString(nil, s)
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%q: %s %v", s, b, err)
		}
	}
}

// TestCSVAgainstEncodingCSV checks on a few tricky inputs that the rows
// given match encoding/csv's own reading.
func TestCSVAgainstEncodingCSV(t *testing.T) {
	in := "a,b\n\"multi\nline\",\"x\"\"y\"\r\n\"sp\",z\n"
	got, err := csvRows(t, in, ',')
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(strings.NewReader(in)).ReadAll()
	if len(got) != len(recs)-1 {
		t.Fatalf("%q vs %q", got, recs)
	}
	var m map[string]string
	json.Unmarshal([]byte(got[0]), &m)
	if m["a"] != "multi\nline" || m["b"] != `x"y` {
		t.Fatalf("%q", got)
	}
	_ = bytes.MinRead
}
