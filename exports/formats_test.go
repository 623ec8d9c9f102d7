package exports

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"labelstudio/store"
)

// exportCase runs a golden case's input through a format and returns the
// zip entries.
func exportCase(t *testing.T, format, dir string) map[string][]byte {
	t.Helper()
	s, tasks := loadCase(t, dir)
	opts := DefaultOptions()
	opts.Now = goldenTime
	var buf bytes.Buffer
	if err := Write(&buf, format, sliceIterator(tasks), s, opts); err != nil {
		t.Fatal(err)
	}
	return entryMap(readZip(t, buf.Bytes()))
}

// loadCase reads a golden case's config and tasks.
func loadCase(t *testing.T, dir string) (Schema, []store.Task) {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(dir, "config.xml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseTestSchema(string(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return s, loadTasks(t, filepath.Join(dir, "tasks.json"))
}

// TestTableQuotingRoundTrip reads the CSV and TSV exports back with
// encoding/csv: texts with commas, tabs, quotes, CR and LF come back
// unchanged, and JSON cells decode.
func TestTableQuotingRoundTrip(t *testing.T) {
	tasks := loadTasks(t, filepath.Join("testdata", "CSV", "text", "tasks.json"))
	texts := map[string]string{}
	for _, task := range tasks {
		data, err := taskData(task)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := dataString(data, "text")
		texts[itoa(task.ID)] = s
	}
	for _, tc := range []struct {
		format string
		sep    rune
	}{{"CSV", ','}, {"TSV", '\t'}} {
		files := exportCase(t, tc.format, filepath.Join("testdata", tc.format, "text"))
		rows, err := readTable(files["result.csv"], tc.sep)
		if err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		col := map[string]int{}
		for i, name := range rows[0] {
			col[name] = i
		}
		if len(rows) != 7 {
			t.Errorf("%s: %d rows, want header + 6", tc.format, len(rows))
		}
		for _, row := range rows[1:] {
			id := row[col["id"]]
			// encoding/csv turns CRLF inside quotes into LF; the raw bytes
			// are checked below.
			if row[col["text"]] != strings.ReplaceAll(texts[id], "\r\n", "\n") {
				t.Errorf("%s: task %s text %q, want %q", tc.format, id, row[col["text"]], texts[id])
			}
			if cell := row[col["label"]]; cell != "" {
				var spans []map[string]any
				if err := json.Unmarshal([]byte(cell), &spans); err != nil {
					t.Errorf("%s: task %s label cell %q: %v", tc.format, id, cell, err)
				}
			}
		}
		if !bytes.Contains(files["result.csv"], []byte("東京.\r\nVisit")) {
			t.Errorf("%s: CRLF inside a quoted field was not kept", tc.format)
		}
		if row := rows[5]; row[col["id"]] != "5" || row[col["flag"]] != "True" || row[col["none"]] != "" ||
			row[col["score"]] != "1.5" || row[col["tags"]] != `["a", "b"]` || row[col["topics"]] != "Wisdom" {
			t.Errorf("%s: data cells of task 5: %q", tc.format, row)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestBrushMaskContent decodes the brush exports and compares them with
// the masks the test data was encoded from.
func TestBrushMaskContent(t *testing.T) {
	m1 := []byte{0, 255, 255, 0, 0, 255, 255, 0, 0, 0, 0, 0}
	m2 := []byte{255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128}
	want := map[string][]byte{
		"task-1-completion-1001-tag-Planet-0":           m1,
		"task-1-completion-1001-tag-Planet-1":           m2,
		"task-1-completion-1001-tag-Planet-Sky_Cloud-0": m1,
		"task-1-completion-1002-tag-Planet-0":           m2, // cancelled completion, still exported
	}
	npys := exportCase(t, "BRUSH_TO_NUMPY", filepath.Join("testdata", "BRUSH_TO_NUMPY", "masks"))
	pngs := exportCase(t, "BRUSH_TO_PNG", filepath.Join("testdata", "BRUSH_TO_PNG", "masks"))
	for base, mask := range want {
		h, w, data, err := readNPY(npys[base+".npy"])
		if err != nil || h != 3 || w != 4 || !bytes.Equal(data, mask) {
			t.Errorf("%s.npy: %d×%d %v (%v), want 3×4 %v", base, h, w, data, err, mask)
		}
		img, err := png.Decode(bytes.NewReader(pngs[base+".png"]))
		if err != nil {
			t.Errorf("%s.png: %v", base, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != 4 || b.Dy() != 3 {
			t.Errorf("%s.png: bounds %v", base, b)
			continue
		}
		for i, a := range mask {
			r, _, _, _ := img.At(i%4, i/4).RGBA()
			if byte(r>>8) != a {
				t.Errorf("%s.png: pixel %d = %d, want %d", base, i, r>>8, a)
				break
			}
		}
	}
}
