package migrate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRewriteStringsKeepsOrderAndKeys(t *testing.T) {
	in := `{ "z": "http://10.0.0.5:8080/data/upload/a%20b.jpg", "a": [1, 2.50, null, true, {"/upload/k": "/upload/x.png"}],
	  "m": "<b>&</b>", "n": "https://example.com/upload/keep.jpg" }`
	out, n, err := rewriteStrings([]byte(in), uploadURL)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":"/data/upload/a%20b.jpg","a":[1,2.50,null,true,{"/upload/k":"/data/upload/x.png"}],"m":"<b>&</b>","n":"https://example.com/upload/keep.jpg"}`
	if string(out) != want || n != 2 {
		t.Errorf("got %s (%d changes), want %s", out, n, want)
	}
	if _, _, err := rewriteStrings([]byte(`{"a": "x"`), uploadURL); err == nil {
		t.Error("truncated JSON should be an error")
	}
}

func TestUploadURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:8080/data/upload/9f-cat.jpg": "/data/upload/9f-cat.jpg",
		"https://ls.example.org/data/upload/d/x.mp3":   "/data/upload/d/x.mp3",
		"/upload/9f-cat.jpg":                           "/data/upload/9f-cat.jpg",
		"/data/upload/9f-cat.jpg":                      "/data/upload/9f-cat.jpg",
		"https://example.com/dog.jpg":                  "https://example.com/dog.jpg",
		"/upload/":                                     "/upload/",
		"ftp://h/data/upload/x":                        "ftp://h/data/upload/x",
		"http://h/data/upload/":                        "http://h/data/upload/",
	} {
		if got, _ := uploadURL(in); got != want {
			t.Errorf("uploadURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScalarParsers(t *testing.T) {
	for in, want := range map[string]int64{`7`: 7, `"1001"`: 1001, `" 12 "`: 12, `3.0`: 3, `1e3`: 1000, `-4`: -4} {
		if got, ok := parseIntJSON(json.RawMessage(in)); !ok || got != want {
			t.Errorf("parseIntJSON(%s) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{``, `null`, `"abc"`, `1.5`, `"NaN"`, `"Inf"`, `1e300`, `{}`, `[1]`, `"`} {
		if _, ok := parseIntJSON(json.RawMessage(in)); ok {
			t.Errorf("parseIntJSON(%s) should fail", in)
		}
	}
	for in, want := range map[string]bool{`true`: true, `1`: true, `-2.5`: true, `"yes"`: true, `"TRUE"`: true,
		`false`: false, `0`: false, `0.0`: false, `"false"`: false, `"0"`: false, `null`: false, `""`: false, `[]`: false, `tru`: false} {
		if got := truthy(json.RawMessage(in)); got != want {
			t.Errorf("truthy(%s) = %v", in, got)
		}
	}
	for in, want := range map[string]int64{`1605866645`: 1605866645, `1605866645.9`: 1605866645, `"1605866645"`: 1605866645,
		`"2020-11-20T10:04:05Z"`: 1605866645, `"2020-11-20T11:04:05+01:00"`: 1605866645} {
		if got, ok := parseTime(json.RawMessage(in)); !ok || got != want {
			t.Errorf("parseTime(%s) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{`null`, `"yesterday"`, `true`, `1e300`, `{}`, ``} {
		if _, ok := parseTime(json.RawMessage(in)); ok {
			t.Errorf("parseTime(%s) should fail", in)
		}
	}
}

func TestFreeCompletionID(t *testing.T) {
	used := map[int64]bool{3001: true, 3002: true}
	if id, ok := freeCompletionID(3, 1, used); !ok || id != 3003 {
		t.Errorf("got %d %v, want 3003", id, ok)
	}
	if _, ok := freeCompletionID(1<<62, 1, used); ok {
		t.Error("an id that would overflow should be refused")
	}
}

func TestEachTaskEntryDamage(t *testing.T) {
	cases := map[string]struct {
		in      string
		entries int
		damaged bool
	}{
		"object":       {`{"0": {"data": {}}, "1": {"data": {}}}`, 2, false},
		"list":         {`[{"data": {}}, 3, "x"]`, 3, false},
		"empty file":   {``, 0, true},
		"scalar":       {`42`, 0, true},
		"truncated":    {`{"0": {"data": {}}, "1": {"da`, 1, true},
		"no end":       {`{"0": {"data": {}}`, 1, true},
		"garbage key":  {`{"0": {}, 7: {}}`, 1, true},
		"empty object": {`{}`, 0, false},
	}
	for name, c := range cases {
		n := 0
		damage, err := eachTaskEntry(strings.NewReader(c.in), func(taskEntry) error { n++; return nil })
		if err != nil || n != c.entries || (damage != nil) != c.damaged {
			t.Errorf("%s: %d entries, damage %v, err %v; want %d entries, damaged %v", name, n, damage, err, c.entries, c.damaged)
		}
	}
}

// FuzzTasksJSON feeds arbitrary tasks.json text through the reader and the
// entry parser: nothing may panic, and every accepted task has object data.
func FuzzTasksJSON(f *testing.F) {
	for _, s := range []string{
		`{"0": {"id": 0, "data": {"image": "http://h/data/upload/a.jpg"}, "predictions": [{"score": 1}]}}`,
		`[{"data": {"text": "x"}, "meta": {"a": 1}, "task_path": "p"}, {"id": "3", "data": {"t": [1, {"u": "/upload/b"}]}}]`,
		`{"x": {"id": 1.0, "data": {}}, "-1": {"data": {"a": 1}}}`,
		`{"0": {"data": {"a": "\u00e9\ud83d\ude00"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := &projectMigration{rep: &ProjectReport{}, uploaded: map[string]bool{}}
		_, _ = eachTaskEntry(strings.NewReader(string(b)), func(e taskEntry) error {
			_, nt, problem := m.parseTask(e)
			if problem == "" {
				var obj map[string]json.RawMessage
				if err := json.Unmarshal(nt.Data, &obj); err != nil {
					t.Fatalf("accepted task with data %q: %v", nt.Data, err)
				}
			}
			return nil
		})
	})
}

// FuzzCompletionFile feeds arbitrary completion files through the reader:
// nothing may panic; every completion gets a distinct id and valid JSON.
func FuzzCompletionFile(f *testing.F) {
	for _, s := range []string{
		`{"completions": [{"id": "1001", "result": [], "skipped": true, "predictions": []}, {"id": 1001}, {"created_at": "x"}]}`,
		`{"completions": []}`,
		`{"completions": [1, null, {"was_cancelled": "yes", "created_at": 1e20}]}`,
		``,
		`{"completions": [{"id": 5`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "1.json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		m := &projectMigration{rep: &ProjectReport{}}
		pt := preparedTask{}
		pt.exact.ID = 1
		m.readCompletions(path, &pt)
		seen := map[int64]bool{}
		for _, c := range pt.exact.Completions {
			if seen[c.ID] || c.ID < 0 {
				t.Fatalf("bad or repeated id %d", c.ID)
			}
			seen[c.ID] = true
			if !json.Valid(c.Body) {
				t.Fatalf("invalid body %q", c.Body)
			}
		}
	})
}

func TestReadCompletionsRules(t *testing.T) {
	path := filepath.Join(t.TempDir(), "1.json")
	os.WriteFile(path, []byte(`{"id": 4, "completions": [
		{"id": 1, "result": {"not": "a list"}},
		{"id": 1, "result": [], "created_at": 10, "skipped": 1, "predictions": []},
		{"id": "1", "result": null, "was_cancelled": "no"},
		"junk"
	]}`), 0o644)
	m := &projectMigration{rep: &ProjectReport{}}
	pt := preparedTask{}
	pt.exact.ID = 1
	m.readCompletions(path, &pt)
	cs := pt.exact.Completions
	if len(cs) != 2 || cs[0].ID != 1 || cs[1].ID != 1002 || cs[0].CreatedAt != 10 || pt.assigned != 1 || pt.cancelled != 1 || pt.filled != 1 {
		t.Fatalf("completions %+v, prepared %+v", cs, pt)
	}
	if string(cs[0].Body) != `{"created_at":10,"id":1,"result":[],"was_cancelled":true}` {
		t.Errorf("body %s", cs[0].Body)
	}
	if !strings.Contains(string(cs[1].Body), `"was_cancelled":false`) {
		t.Errorf("body %s", cs[1].Body)
	}
	for _, w := range []string{"not a list", "says it is task 4", "completion 3 is not a JSON object"} {
		found := false
		for _, got := range m.rep.Warnings {
			found = found || strings.Contains(got, w)
		}
		if !found {
			t.Errorf("no warning %q in %q", w, m.rep.Warnings)
		}
	}
}
