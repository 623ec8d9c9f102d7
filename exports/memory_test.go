package exports

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"testing"

	"labelstudio/store"
)

// syntheticSchema is a NER + classification config.
var syntheticSchema = Schema{
	Objects: []Object{{Name: "text", Type: "Text", Value: "text"}},
	Controls: []Control{
		{Name: "label", Type: "Labels", ToName: []string{"text"}, Labels: []string{"Person", "Location"}},
		{Name: "sentiment", Type: "Choices", ToName: []string{"text"}, Labels: []string{"Positive", "Negative"}},
	},
}

// syntheticTasks returns an iterator over n completed tasks made on the
// fly, so that the test measures the export, not the input.
func syntheticTasks(n int) Iterator {
	return func(fn func(store.Task) error) error {
		var raw, comp []byte
		for i := 0; i < n; i++ {
			id := int64(i)
			raw = append(raw[:0], `{"id":`...)
			raw = strconv.AppendInt(raw, id, 10)
			raw = append(raw, `,"data":{"text":"Opossum number `...)
			raw = strconv.AppendInt(raw, id, 10)
			raw = append(raw, ` lives in Ohio with its friends, who are all very nice."}}`...)
			comp = append(comp[:0], `{"id":`...)
			comp = strconv.AppendInt(comp, id*1000+1, 10)
			comp = append(comp, `,"created_at":1605866645,"lead_time":3.2,"result":[`+
				`{"from_name":"label","id":"a1","to_name":"text","type":"labels","value":{"start":0,"end":7,"text":"Opossum","labels":["Person"]}},`+
				`{"from_name":"label","id":"a2","to_name":"text","type":"labels","value":{"start":17,"end":21,"text":"Ohio","labels":["Location"]}},`+
				`{"from_name":"sentiment","id":"s1","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`...)
			t := store.Task{
				ID:  id,
				Raw: append([]byte(nil), raw...),
				Completions: []store.Completion{{
					ID: id*1000 + 1, TaskID: id, CreatedAt: 1605866645, HasCreatedAt: true,
					Raw: append([]byte(nil), comp...),
				}},
			}
			if err := fn(t); err != nil {
				return err
			}
		}
		return nil
	}
}

// heapSampler records the largest HeapInuse seen.
type heapSampler struct{ max uint64 }

func (h *heapSampler) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.max = max(h.max, m.HeapInuse)
}

// TestExportMemory exports 100,000 completed tasks as JSON and JSON_MIN
// (and, unless -short or -race, CSV, whose rows are spooled to a temporary
// file) and
// checks that the heap in use stays under 64 MiB: nothing grows with the
// project.
func TestExportMemory(t *testing.T) {
	const n = 100_000
	const limit = 64 << 20
	for _, format := range []string{"JSON", "JSON_MIN", "CSV"} {
		if (testing.Short() || raceEnabled) && format == "CSV" {
			continue
		}
		runtime.GC()
		h := &heapSampler{}
		h.sample()
		base := syntheticTasks(n)
		count := 0
		sampled := func(fn func(store.Task) error) error {
			return base(func(t store.Task) error {
				if count++; count%1000 == 0 {
					h.sample()
				}
				return fn(t)
			})
		}
		cw := &countingWriter{}
		if err := Write(cw, format, sampled, syntheticSchema, DefaultOptions()); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		h.sample()
		t.Logf("%s: %d tasks, %.1f MiB zip, peak HeapInuse %.1f MiB", format, count, float64(cw.n)/(1<<20), float64(h.max)/(1<<20))
		if count != n {
			t.Errorf("%s: iterated %d tasks", format, count)
		}
		if h.max > limit {
			t.Errorf("%s: peak HeapInuse %d bytes exceeds %d", format, h.max, limit)
		}
	}
}

// countingWriter counts and discards.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// resultSize returns the uncompressed size of result.json in an export.
func resultSize(b *testing.B, format string, tasks Iterator) int64 {
	var buf bytes.Buffer
	if err := Write(&buf, format, tasks, syntheticSchema, DefaultOptions()); err != nil {
		b.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == "result.json" {
			return int64(f.UncompressedSize64)
		}
	}
	b.Fatal("no result.json")
	return 0
}

// BenchmarkExport measures export throughput in MB/s of uncompressed
// result.json (zip compression included in the time):
//
//	go test ./exports -run '^$' -bench Export -benchtime 5x
func BenchmarkExport(b *testing.B) {
	const n = 10_000
	for _, format := range []string{"JSON", "JSON_MIN"} {
		b.Run(fmt.Sprintf("%s/%dtasks", format, n), func(b *testing.B) {
			tasks := syntheticTasks(n)
			b.SetBytes(resultSize(b, format, tasks))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := Write(io.Discard, format, tasks, syntheticSchema, DefaultOptions()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
