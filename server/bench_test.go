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
