package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"labelstudio/server/importer"
	"labelstudio/store/labelconfig"
)

// benchImportMB is the size of the JSON array BenchmarkImportJSONStream
// sends: $LS_BENCH_IMPORT_MB, default 16.
func benchImportMB() int {
	if v, err := strconv.Atoi(os.Getenv("LS_BENCH_IMPORT_MB")); err == nil && v > 0 {
		return v
	}
	return 16
}

// jsonArrayStream writes a JSON array of tasks of about itemSize bytes each
// until size bytes are written, without holding it in memory.
func jsonArrayStream(size int64, itemSize int) (io.Reader, *atomic.Int64) {
	pr, pw := io.Pipe()
	var written atomic.Int64
	go func() {
		w := bufio.NewWriterSize(pw, 256<<10)
		pad := strings.Repeat("lorem ipsum dolor sit amet ", itemSize/27+1)[:max(0, itemSize-60)]
		n := int64(0)
		w.WriteString("[")
		for i := 0; n < size; i++ {
			if i > 0 {
				w.WriteString(",")
			}
			k, _ := fmt.Fprintf(w, `{"text":"task %d %s","meta_n":%d}`, i, pad, i)
			n += int64(k) + 1
		}
		w.WriteString("]")
		w.Flush()
		written.Store(n + 1)
		pw.Close()
	}()
	return pr, &written
}

// BenchmarkImportJSONStream imports a generated JSON array through the
// real handler over a real connection (chunked, no Content-Length) and
// reports the throughput and the peak Go heap while importing. Size with
// LS_BENCH_IMPORT_MB (e.g. 200 for the 1 GB extrapolation).
func BenchmarkImportJSONStream(b *testing.B) {
	size := int64(benchImportMB()) << 20
	b.SetBytes(size)
	var peakHeap, peakSys uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newImportEnv(b, textConfig, Options{Import: ImportLimits{MaxTasks: -1}})
		addr := listen(b, e.s)
		body, _ := jsonArrayStream(size, benchItemSize())
		runtime.GC()
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			var ms runtime.MemStats
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
				peakSys = max(peakSys, ms.Sys-ms.HeapReleased)
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		b.StartTimer()
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/project/import", body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.StopTimer()
		close(stop)
		<-done
		if resp.StatusCode != 201 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		b.ReportMetric(float64(e.taskCount(b)), "tasks")
	}
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakSys)/(1<<20), "peak-go-sys-MiB")
	if hwm := vmHWM(); hwm > 0 {
		b.ReportMetric(hwm, "peak-RSS-MiB")
	}
}

// vmHWM returns the process's peak resident set size in MiB (Linux), 0
// when unknown.
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkImportParseValidate measures the HTTP-free part of a JSON
// import — streaming parse and item validation — over an in-memory array,
// without the store.
func BenchmarkImportParseValidate(b *testing.B) {
	r, _ := jsonArrayStream(16<<20, benchItemSize())
	buf, _ := io.ReadAll(r)
	cfg := mustParseConfig(b, textConfig)
	b.SetBytes(int64(len(buf)))
	keys := keyCache{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		err := importer.JSONItems(bytes.NewReader(buf), 1<<20, func(item []byte) error {
			_, _, reasons := prepareTaskKeys(bytes.Clone(item), cfg, "text", keys)
			if len(reasons) > 0 {
				return fmt.Errorf("%v", reasons)
			}
			n++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchItemSize is the size of the generated tasks: $LS_BENCH_IMPORT_ITEM,
// default 250 bytes.
func benchItemSize() int {
	if v, err := strconv.Atoi(os.Getenv("LS_BENCH_IMPORT_ITEM")); err == nil && v > 60 {
		return v
	}
	return 250
}

func mustParseConfig(b testing.TB, text string) *labelconfig.Config {
	cfg, err := labelconfig.Parse(text)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkImportCSVStream uploads a generated CSV (multipart, chunked) of
// $LS_BENCH_IMPORT_MB MiB through the real handler: the server spools it
// to disk and reads it twice (column typing, then rows).
func BenchmarkImportCSVStream(b *testing.B) {
	size := int64(benchImportMB()) << 20
	b.SetBytes(size)
	var lines int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e := newImportEnv(b, textConfig, Options{Import: ImportLimits{MaxTasks: -1}})
		addr := listen(b, e.s)
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			fw, _ := mw.CreateFormFile("big.csv", "big.csv")
			w := bufio.NewWriterSize(fw, 256<<10)
			w.WriteString("text,n,score\n")
			for n := int64(13); n < size; {
				k, _ := fmt.Fprintf(w, "row %d of the big file,%d,%d.5\n", n, n, n%100)
				n += int64(k)
			}
			w.Flush()
			mw.Close()
			pw.Close()
		}()
		runtime.GC()
		b.StartTimer()
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/project/import", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.StopTimer()
		if resp.StatusCode != 201 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		lines = e.taskCount(b)
	}
	b.ReportMetric(float64(lines), "rows")
	if hwm := vmHWM(); hwm > 0 {
		b.ReportMetric(hwm, "peak-RSS-MiB")
	}
}
