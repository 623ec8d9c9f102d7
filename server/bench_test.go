package server

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"labelstudio/bench/cputime"
)

// BenchmarkImportRequest1000 posts imports of 1000 text tasks through the
// real router and store (fsync'd commits).
func BenchmarkImportRequest1000(b *testing.B) {
	s, _ := newTestServer(b)
	var items []string
	for i := 0; i < 1000; i++ {
		items = append(items, fmt.Sprintf(`{"data":{"text":"task number %d: a sentence of ordinary length for a text task"}}`, i))
	}
	body := "[" + strings.Join(items, ",") + "]"
	b.SetBytes(int64(len(body)))
	cpu := cputime.Now()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/project/import", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.App().Test(req, -1)
		if err != nil || resp.StatusCode != 201 {
			b.Fatal(err, resp.StatusCode)
		}
		resp.Body.Close()
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "tasks/s")
	cputime.Report(b, cpu, "cpu-ms/1000tasks", 1)
}

// BenchmarkCompletionRequestParallel posts completions through the real
// router from 4 concurrent clients; every commit is fsync'd and shared.
func BenchmarkCompletionRequestParallel(b *testing.B) {
	s, _ := newTestServer(b)
	var items []string
	for i := 0; i < 10_000; i++ {
		items = append(items, fmt.Sprintf(`{"text":"task number %d"}`, i))
	}
	req := httptest.NewRequest("POST", "/api/project/import", strings.NewReader("["+strings.Join(items, ",")+"]"))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := s.App().Test(req, -1); err != nil || resp.StatusCode != 201 {
		b.Fatal(err, resp.StatusCode)
	}
	const body = `{"lead_time":1.5,"result":[{"id":"r1","from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`
	var next atomic.Int64
	b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 clients
	b.ResetTimer()
	cpu := cputime.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1) % 10_000
			req := httptest.NewRequest("POST", fmt.Sprintf("/api/tasks/%d/completions", id), strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := s.App().Test(req, -1)
			if err != nil || resp.StatusCode != 201 {
				b.Fatal(err, resp.StatusCode)
			}
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "completions/s")
	cputime.Report(b, cpu, "cpu-ms/completion", 1)
}

// BenchmarkRenderTask renders a stored, completed task as GET /api/tasks/<id>
// and /api/tasks serve it: without predictions (the renderer adds an empty
// list) and with them.
func BenchmarkRenderTask(b *testing.B) {
	s, st := newTestServer(b)
	text := strings.Repeat("a sentence of ordinary length for a text task, ", 40)
	ids := importTexts(b, s, text, text)
	result := `{"lead_time":2,"result":[{"id":"x","from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`
	for _, id := range ids {
		if r := callJSON(b, s, "POST", fmt.Sprintf("/api/tasks/%d/completions", id), result); r.status != 201 {
			b.Fatal(r.status, r.body)
		}
	}
	if err := st.SetPredictions("test", ids[1], []byte(`[{"result":[],"score":0.5,"model_version":"m"}]`)); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		id   int64
	}{{"without_predictions", ids[0]}, {"with_predictions", ids[1]}} {
		tk, err := st.Task("test", c.id)
		if err != nil || !tk.Completed() {
			b.Fatal(err, tk.Completed())
		}
		for _, mode := range []struct {
			name string
			mode renderMode
		}{{"get", renderGet}, {"list", renderList}} {
			b.Run(c.name+"/"+mode.name, func(b *testing.B) {
				b.SetBytes(int64(len(tk.Raw)))
				for b.Loop() {
					renderTask(tk, mode.mode)
				}
			})
		}
	}
}
