package importer

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type testSink struct {
	items  []string
	hosted []string
}

func (s *testSink) Item(item []byte) error {
	s.items = append(s.items, string(item))
	return nil
}

func (s *testSink) Host(name string, r io.Reader) (string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	s.hosted = append(s.hosted, name+"="+string(b))
	return "/data/upload/" + name, nil
}

type zipEntry struct {
	name, body string
	method     uint16
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: e.method}
		if strings.HasSuffix(e.name, "/") {
			h.SetMode(os.ModeDir | 0o755)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func process(t testing.TB, cfg Config, name string, body []byte) (*testSink, *Processor, error) {
	t.Helper()
	if cfg.TempDir == "" {
		cfg.TempDir = t.TempDir()
	}
	s := &testSink{}
	p := NewProcessor(cfg, s)
	return s, p, p.File(name, bytes.NewReader(body))
}

func TestProcessorFormats(t *testing.T) {
	one := Config{DataKeys: 1}
	rows := []struct {
		name, body string
		items      []string
		hosted     []string
	}{
		{name: "t.json", body: `[{"a":1},{"data":{"a":2}}]`, items: []string{`{"a":1}`, `{"data":{"a":2}}`}},
		{name: "T.JSON", body: `{"a":1}`, items: []string{`{"a":1}`}},
		{name: "t.txt", body: "x\ny", items: []string{`{"data":{"$undefined$":"x"}}`, `{"data":{"$undefined$":"y"}}`}},
		{name: "t.CSV", body: "a,b\n1,x\n", items: []string{`{"data":{"a":1,"b":"x"}}`}},
		{name: "t.tsv", body: "a\tb\n1\tx\n", items: []string{`{"data":{"a":1,"b":"x"}}`}},
		{name: "p.html", body: "<p>\n a </p>\n", items: []string{`{"data":{"$undefined$":"<p> a </p>"}}`}},
		{name: "dir/img.JPG", body: "JPEG", items: []string{`{"data":{"$undefined$":"/data/upload/img.JPG"}}`}, hosted: []string{"img.JPG=JPEG"}},
		{name: `c:\x\noext`, body: "bin", items: []string{`{"data":{"$undefined$":"/data/upload/noext"}}`}, hosted: []string{"noext=bin"}},
	}
	for _, r := range rows {
		s, _, err := process(t, one, r.name, []byte(r.body))
		if err != nil {
			t.Errorf("%s: %v", r.name, err)
			continue
		}
		if strings.Join(s.items, "|") != strings.Join(r.items, "|") || strings.Join(s.hosted, "|") != strings.Join(r.hosted, "|") {
			t.Errorf("%s: items %q hosted %q", r.name, s.items, s.hosted)
		}
	}
}

func TestProcessorTimeSeriesCSVIsHosted(t *testing.T) {
	s, _, err := process(t, Config{DataKeys: 1, TimeSeriesOnly: true}, "ts.csv", []byte("time,v\n1,2\n"))
	if err != nil || len(s.hosted) != 1 || len(s.items) != 1 {
		t.Fatalf("%v %q %q", err, s.items, s.hosted)
	}
}

func TestProcessorErrors(t *testing.T) {
	two := Config{DataKeys: 2}
	rows := []struct {
		cfg        Config
		name, body string
		want       string
	}{
		{two, "a.jpg", "x", MultiKeyMessage},
		{two, "a.html", "<p>", MultiKeyMessage},
		{Config{DataKeys: 1}, "a.json", "null", "null in a.json is not allowed"},
		{Config{DataKeys: 1}, "a.json", "", "Failed to parse input file a.json: the file is empty"},
		{Config{DataKeys: 1}, "a.txt", "", "Failed to parse input file a.txt: the file is empty"},
		{Config{DataKeys: 1}, "a.csv", "", "Failed to parse input file a.csv: the file is empty"},
		{Config{DataKeys: 1}, "a.png", "", "Failed to parse input file a.png: the file is empty"},
		{Config{DataKeys: 1}, "a.csv", "a\n\"x\n", "Failed to parse input file a.csv: parse error"},
		{Config{DataKeys: 1}, "a.txt", "\xff\xfe", "not valid UTF-8"},
		{Config{DataKeys: 1}, "a.html", "<p>\xff</p>", "not valid UTF-8"},
		{Config{DataKeys: 1}, "a.rar", "Rar!", "RAR archives are not supported"},
		{Config{DataKeys: 1}, "a.zip", "not a zip", "Failed to parse input file a.zip: not a valid ZIP archive"},
		{Config{DataKeys: 1}, "a.zip", "", "Failed to parse input file a.zip: the file is empty"},
	}
	for _, r := range rows {
		_, _, err := process(t, r.cfg, r.name, []byte(r.body))
		var fe *FileError
		if err == nil || !strings.Contains(err.Error(), r.want) || !errors.As(err, &fe) {
			t.Errorf("%s %q: %v, want %q", r.name, r.body, err, r.want)
		}
	}
}

func TestProcessorZip(t *testing.T) {
	inner := makeZip(t, zipEntry{name: "deep.txt", body: "deep"})
	z := makeZip(t,
		zipEntry{name: "folder/"},
		zipEntry{name: "folder/a.json", body: `[{"text":"j"}]`, method: zip.Deflate},
		zipEntry{name: "folder/sub/b.TXT", body: "t1\nt2"},
		zipEntry{name: "c.csv", body: "text\nc1\n"},
		zipEntry{name: "__MACOSX/folder/._a.json", body: "junk"},
		zipEntry{name: ".hidden", body: "junk"},
		zipEntry{name: "folder/.DS_Store", body: "junk"},
		zipEntry{name: "img/pic.png", body: "PNG"},
		zipEntry{name: "nested.zip", body: string(inner)},
	)
	s, p, err := process(t, Config{DataKeys: 1}, "all.ZIP", z)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"text":"j"}`, `{"data":{"$undefined$":"t1"}}`, `{"data":{"$undefined$":"t2"}}`, `{"data":{"text":"c1"}}`,
		`{"data":{"$undefined$":"/data/upload/pic.png"}}`, `{"data":{"$undefined$":"deep"}}`}
	if strings.Join(s.items, "|") != strings.Join(want, "|") {
		t.Fatalf("items %q", s.items)
	}
	f := p.Formats()
	if f[".json"] != 1 || f[".txt"] != 2 || f[".csv"] != 1 || f[".png"] != 1 || f[".zip"] != 0 || len(f) != 4 {
		t.Fatalf("formats %v", f)
	}
}

func TestProcessorZipLimits(t *testing.T) {
	big := strings.Repeat("0", 1<<20) // compresses to about 1 KiB
	bomb := makeZip(t, zipEntry{name: "a.txt", body: big, method: zip.Deflate}, zipEntry{name: "b.txt", body: big, method: zip.Deflate})
	if len(bomb) > 10<<10 {
		t.Fatalf("the test bomb is %d bytes", len(bomb))
	}
	rows := []struct {
		limits Limits
		body   []byte
		want   string
	}{
		{Limits{MaxArchiveEntrySize: 1 << 19}, bomb, "entry a.txt is larger than the limit of 512 KiB per entry when unpacked"},
		{Limits{MaxArchiveTotalSize: 3 << 19}, bomb, "the archives unpack to more than the limit of 1536 KiB in total"},
		{Limits{MaxArchiveEntries: 1}, bomb, "the archives have more than 1 entries, the limit"},
		{Limits{MaxArchiveDepth: 1}, makeZip(t, zipEntry{name: "in.zip", body: string(makeZip(t, zipEntry{name: "x.txt", body: "x"}))}), "nested more than 1 deep"},
		// archive/zip itself refuses an entry longer than its header says.
		{Limits{MaxArchiveEntrySize: 1 << 19}, lyingZip(t, big), "bomb.zip/liar.txt: zip: not a valid zip file"},
	}
	for _, r := range rows {
		_, _, err := process(t, Config{DataKeys: 1, Limits: r.limits}, "bomb.zip", r.body)
		if err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%+v: %v, want %q", r.limits, err, r.want)
		}
	}
}

// lyingZip returns an archive whose entry claims to be 10 bytes long when
// unpacked but holds body.
func lyingZip(t testing.TB, body string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "liar.txt", Method: zip.Store, UncompressedSize64: 10, CompressedSize64: uint64(len(body)), CRC32: 0})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, body)
	zw.Close()
	return b.Bytes()
}

func TestProcessorReadsOSFileInPlace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.csv")
	os.WriteFile(path, []byte("a\n1\n2\n"), 0o644)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := &testSink{}
	p := NewProcessor(Config{DataKeys: 1, TempDir: filepath.Join(dir, "missing")}, s)
	if err := p.File("x.csv", f); err != nil || len(s.items) != 2 {
		t.Fatalf("%v %q", err, s.items)
	}
}

func TestProcessorSinkErrorPassesThrough(t *testing.T) {
	stop := errors.New("stop here")
	p := NewProcessor(Config{DataKeys: 1, TempDir: t.TempDir()}, stopSink{stop})
	for _, name := range []string{"a.json", "a.txt", "a.csv", "a.png"} {
		body := map[string]string{"a.json": `[1]`, "a.txt": "x", "a.csv": "a\n1\n", "a.png": "P"}[name]
		if err := p.File(name, strings.NewReader(body)); err != stop {
			t.Errorf("%s: %v", name, err)
		}
	}
}

type stopSink struct{ err error }

func (s stopSink) Item([]byte) error                      { return s.err }
func (s stopSink) Host(string, io.Reader) (string, error) { return "", s.err }
