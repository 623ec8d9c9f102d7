// Package cputime reads the CPU time of the running process, for
// benchmarks that report CPU per operation next to wall time: on a busy
// machine wall time mostly measures the other work, CPU time much less so.
package cputime

import (
	"testing"
	"time"
)

// Report adds the process CPU time per unit since start to b's results,
// as unit (for example "cpu-ms/1000tasks"); per is how many units one
// benchmark iteration covers. It does nothing where CPU time is unknown.
func Report(b *testing.B, start time.Duration, unit string, per float64) {
	if start == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(Now()-start)/float64(time.Millisecond)/(float64(b.N)*per), unit)
}
