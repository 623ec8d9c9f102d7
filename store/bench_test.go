package store

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/bench/cputime"
)

func benchStore(b *testing.B, n int) (*Store, string) {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	p := "bench"
	if _, err := s.CreateProject(p, DefaultSettings(), ""); err != nil {
		b.Fatal(err)
	}
	for done := 0; done < n; {
		batch := make([]NewTask, 0, 1000)
		for i := 0; i < 1000 && done < n; i++ {
			batch = append(batch, textTask(fmt.Sprintf("task number %d with a sentence of typical length for a text task", done)))
			done++
		}
		if _, err := s.ImportTasks(p, batch, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	return s, p
}

// BenchmarkSaveCompletionScattered is SaveCompletionParallel as the load
// harness drives it: 100k tasks, 4 writers, each completion on a random
// task, so that every write lands on leaves of its own.
func BenchmarkSaveCompletionScattered(b *testing.B) {
	const tasks = 100_000
	s, p := benchStore(b, tasks)
	order := rand.New(rand.NewPCG(1, 2)).Perm(tasks)
	var next atomic.Int64
	before := s.DB().Stats().TxStats
	b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := int64(order[next.Add(1)%tasks])
			if _, err := s.SaveCompletion(p, id, []byte(`{"lead_time":1.5,"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`), false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "completions/s")
	// Pages written per completion, and per commit: figures that do not
	// depend on how busy the machine is.
	after := s.DB().Stats().TxStats
	b.ReportMetric(float64(after.GetWrite()-before.GetWrite())/float64(b.N), "pages/completion")
}

// BenchmarkImport1000 imports batches of 1000 tasks (fsync'd commits).
func BenchmarkImport1000(b *testing.B) {
	s, p := benchStore(b, 0)
	batch := make([]NewTask, 1000)
	for i := range batch {
		batch[i] = textTask(fmt.Sprintf("task number %d with a sentence of typical length for a text task", i))
	}
	cpu := cputime.Now()
	for b.Loop() {
		if _, err := s.ImportTasks(p, batch, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "tasks/s")
	cputime.Report(b, cpu, "cpu-ms/1000tasks", 1)
}

// BenchmarkImport1000Scored imports batches of 1000 tasks of which every
// tenth carries a scored prediction, as the load harness does; run with
// -benchtime 100x it builds a 100k-task project. Pages written per batch do
// not depend on how busy the machine is.
func BenchmarkImport1000Scored(b *testing.B) {
	s, p := benchStore(b, 0)
	rnd := rand.New(rand.NewPCG(3, 4))
	batch := make([]NewTask, 1000)
	before := s.DB().Stats().TxStats
	cpu := cputime.Now()
	n := 0
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			batch[i] = textTask(fmt.Sprintf("task number %d with a sentence of typical length for a text task", n))
			if n%10 == 0 {
				batch[i].Predictions = json.RawMessage(fmt.Sprintf(`[{"result":[],"score":%.3f}]`, rnd.Float64()))
			}
			n++
		}
		b.StartTimer()
		if _, err := s.ImportTasks(p, batch, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	after := s.DB().Stats().TxStats
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "tasks/s")
	b.ReportMetric(float64(after.GetWrite()-before.GetWrite())/float64(b.N), "pages/batch")
	cputime.Report(b, cpu, "cpu-ms/1000tasks", 1)
}

// BenchmarkFirstScoreSampling measures the first prediction-score sampling
// after an import of 100k tasks, every tenth scored: it adds the 10k scores
// the import left out of by_score, once.
func BenchmarkFirstScoreSampling(b *testing.B) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for b.Loop() {
		b.StopTimer()
		s, p := benchStore(b, 0)
		for start := 0; start < 100_000; start += 1000 {
			batch := make([]NewTask, 1000)
			for i := range batch {
				batch[i] = textTask(fmt.Sprintf("task number %d", start+i))
				if i%10 == 0 {
					batch[i].Predictions = json.RawMessage(fmt.Sprintf(`[{"result":[],"score":%.3f}]`, rnd.Float64()))
				}
			}
			if _, err := s.ImportTasks(p, batch, ImportOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if _, err := s.NextTask(p, SamplingScoreMin); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstDedupImport measures the first import that skips
// duplicates into 100k tasks imported without: it hashes them all first,
// once, then compares its 1000 tasks.
func BenchmarkFirstDedupImport(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s, p := benchStore(b, 100_000)
		batch := make([]NewTask, 1000)
		for i := range batch {
			batch[i] = textTask(fmt.Sprintf("task number %d with a sentence of typical length for a text task", 99_500+i))
		}
		b.StartTimer()
		res, err := s.ImportTasks(p, batch, ImportOptions{SkipDuplicates: true})
		if err != nil {
			b.Fatal(err)
		}
		if res.Skipped != 500 {
			b.Fatalf("skipped %d, want 500", res.Skipped)
		}
	}
}

func BenchmarkNextTask100k(b *testing.B) {
	s, p := benchStore(b, 100_000)
	// Label the first half, so that next must skip 50k completed tasks.
	for i := 0; i < 50_000; i += 1000 {
		err := s.update(p, func(t *ptx) error {
			for j := i; j < i+1000; j++ {
				if _, err := t.saveCompletion(int64(j), map[string]json.RawMessage{"result": json.RawMessage("[]")}, 1); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := s.NextTask(p, SamplingSequential); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListLastPage100k(b *testing.B) {
	s, p := benchStore(b, 100_000)
	for b.Loop() {
		if ts, err := s.ListTasks(p, OrderID, 100_000-100, 100); err != nil || len(ts) != 100 {
			b.Fatal(err, len(ts))
		}
	}
}

func BenchmarkGetTask100k(b *testing.B) {
	s, p := benchStore(b, 100_000)
	i := 0
	for b.Loop() {
		i++
		if _, err := s.Task(p, int64(i%100_000)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveCompletionParallel posts completions from concurrent
// goroutines; each commit is fsync'd and shared through Batch.
func BenchmarkSaveCompletionParallel(b *testing.B) {
	s, p := benchStore(b, 10_000)
	var next atomic.Int64
	b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 writers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1) % 10_000
			if _, err := s.SaveCompletion(p, id, []byte(`{"lead_time":1.5,"result":[{"from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`), false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "completions/s")
}
