package server

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
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
}
