package exports

import (
	"bytes"
	"encoding/json"
	"flag"
	"image"
	"image/png"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// update rewrites the golden files: go test ./exports -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden want/ files of the export tests")

// goldenTime is the export time of every golden case.
var goldenTime = time.Date(2020, 11, 20, 10, 11, 12, 0, time.UTC)

// entriesFile lists a case's zip entries, in order, inside want/.
const entriesFile = "_entries.txt"

// caseOptions is the optional options.json of a golden case.
type caseOptions struct {
	OnlyCompleted      *bool `json:"only_completed"`
	IncludePredictions bool  `json:"include_predictions"`
	// Media serves the files of the case's media/ folder by base name.
	Media bool `json:"media"`
}

// TestGolden runs every case testdata/<format>/<case>: it exports
// tasks.json under config.xml in <format> and compares the zip with want/
// (file by file, plus the entry list in want/_entries.txt; PNGs compare by
// pixels). Every output is also read back by an independent parser.
func TestGolden(t *testing.T) {
	formatsDirs, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fd := range formatsDirs {
		if !fd.IsDir() {
			continue
		}
		format := fd.Name()
		if _, ok := Lookup(format); !ok {
			continue
		}
		cases, err := os.ReadDir(filepath.Join("testdata", format))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if !c.IsDir() {
				continue
			}
			dir := filepath.Join("testdata", format, c.Name())
			n++
			t.Run(format+"/"+c.Name(), func(t *testing.T) { runGolden(t, format, dir) })
		}
	}
	if n == 0 {
		t.Fatal("no golden cases found")
	}
}

func runGolden(t *testing.T, format, dir string) {
	cfg, err := os.ReadFile(filepath.Join(dir, "config.xml"))
	if err != nil {
		t.Fatal(err)
	}
	schema, err := parseTestSchema(string(cfg))
	if err != nil {
		t.Fatal(err)
	}
	tasks := loadTasks(t, filepath.Join(dir, "tasks.json"))
	opts := DefaultOptions()
	opts.Now = goldenTime
	if raw, err := os.ReadFile(filepath.Join(dir, "options.json")); err == nil {
		var co caseOptions
		if err := json.Unmarshal(raw, &co); err != nil {
			t.Fatalf("options.json: %v", err)
		}
		if co.OnlyCompleted != nil {
			opts.OnlyCompleted = *co.OnlyCompleted
		}
		opts.IncludePredictions = co.IncludePredictions
		if co.Media {
			opts.Media = dirMedia(filepath.Join(dir, "media"))
		}
	}
	var out bytes.Buffer
	if err := Write(&out, format, sliceIterator(tasks), schema, opts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	entries := readZip(t, out.Bytes())
	checkParses(t, format, entries)
	var names []string
	for _, e := range entries {
		names = append(names, e.name)
	}
	listing := []byte(strings.Join(names, "\n") + "\n")
	want := filepath.Join(dir, "want")
	if *update {
		if err := os.RemoveAll(want); err != nil {
			t.Fatal(err)
		}
		writeWant(t, want, entriesFile, listing)
		for _, e := range entries {
			if !strings.HasSuffix(e.name, "/") {
				writeWant(t, want, e.name, e.data)
			}
		}
		return
	}
	wantListing, err := os.ReadFile(filepath.Join(want, entriesFile))
	if err != nil {
		t.Fatalf("%v (run with -update to create the golden files)", err)
	}
	if !bytes.Equal(listing, wantListing) {
		t.Errorf("zip entries differ:\n got: %q\nwant: %q", listing, wantListing)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.name, "/") {
			continue
		}
		wantData, err := os.ReadFile(filepath.Join(want, filepath.FromSlash(e.name)))
		if err != nil {
			t.Errorf("%s: %v", e.name, err)
			continue
		}
		if path.Ext(e.name) == ".png" {
			if !samePNG(t, e.data, wantData) {
				t.Errorf("%s: pixels differ from the golden PNG", e.name)
			}
			continue
		}
		if !bytes.Equal(e.data, wantData) {
			t.Errorf("%s differs from golden:\n--- got ---\n%s\n--- want ---\n%s", e.name, e.data, wantData)
		}
	}
}

func writeWant(t *testing.T, want, name string, data []byte) {
	t.Helper()
	p := filepath.Join(want, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// samePNG compares two PNGs by size and grey levels.
func samePNG(t *testing.T, a, b []byte) bool {
	t.Helper()
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Errorf("decode png: %v", err)
		return false
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Errorf("decode golden png: %v", err)
		return false
	}
	if ia.Bounds() != ib.Bounds() {
		return false
	}
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if grey(ia, x, y) != grey(ib, x, y) {
				return false
			}
		}
	}
	return true
}

func grey(im image.Image, x, y int) uint32 {
	r, g, b, a := im.At(x, y).RGBA()
	return r ^ g<<1 ^ b<<2 ^ a<<3
}

// dirMedia serves the files of dir by the base name of the task value.
func dirMedia(dir string) MediaFunc {
	return func(value string) (string, io.ReadCloser, error) {
		name := path.Base(value)
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return "", nil, ErrNoMedia
		}
		return name, f, nil
	}
}
