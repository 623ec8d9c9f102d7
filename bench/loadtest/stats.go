package main

import (
	"math"
	"slices"
	"time"
)

// latencyStats summarizes the latencies of the requests of one phase.
type latencyStats struct {
	N      int
	Min    time.Duration
	Median time.Duration
	P99    time.Duration
	Max    time.Duration
	Mean   time.Duration
}

// summarize computes the statistics of lat. The input slice is not modified.
func summarize(lat []time.Duration) latencyStats {
	if len(lat) == 0 {
		return latencyStats{}
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	var sum time.Duration
	for _, d := range sorted {
		sum += d
	}
	return latencyStats{
		N:      len(sorted),
		Min:    sorted[0],
		Median: median(sorted),
		P99:    percentile(sorted, 99),
		Max:    sorted[len(sorted)-1],
		Mean:   sum / time.Duration(len(sorted)),
	}
}

// median returns the median of an ascending slice: the middle element for an
// odd length, the mean of the two middle elements for an even length, and 0
// for an empty slice.
func median(sorted []time.Duration) time.Duration {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		a, b := sorted[n/2-1], sorted[n/2]
		return a + (b-a)/2
	}
}

// percentile returns the p-th percentile (0 < p <= 100) of an ascending slice
// using the nearest-rank method: the smallest sample such that at least p
// percent of all samples are less than or equal to it. It returns 0 for an
// empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// ms converts d to fractional milliseconds.
func ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
