package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
)

// The server keeps its data in bbolt's memory map, outside the Go heap, so
// its live heap is tiny (one to three MiB) whatever the number of tasks.
// With the default GOGC=100 the collector's goal is then the runtime's
// minimum of 4 MiB, and a stream of imports or completions, which allocates
// a few MiB per request burst, starts a collection every millisecond or two:
// a third of the server's CPU time went to the collector and its write
// barriers during an import.
//
// gcTuner gives the collector a floor instead: after every collection it
// sets GOGC so that the next goal is at least heapFloor, and never less than
// GOGC=100 would give, nor more than five times the live heap. A process
// with a large live heap (a big export, say) keeps the default behaviour; a
// small one collects several times less often, for at most heapFloor of
// extra memory. With 100k tasks this took an import through the load
// harness from 89k to 134k tasks/s and completions from 1,270 to 1,820/s,
// for 14 MiB more peak RSS (bench/README.md).

// heapFloor is the smallest heap goal the tuner aims for.
const heapFloor = 16 << 20

// maxGCPercent bounds the percent the tuner sets, and so the heap goal to
// five times the live heap: a cycle whose cleanup runs late, after the live
// heap has grown, then overshoots by that much at most.
const maxGCPercent = 400

// gcPercentFor returns the GOGC that makes the next heap goal
// live*(1+GOGC/100) at least floor, between 100 and maxGCPercent.
func gcPercentFor(live, floor uint64) int {
	if live == 0 {
		return maxGCPercent
	}
	if live >= floor/2 {
		return 100
	}
	p := (floor - live) * 100 / live
	return int(min(max(p, 100), maxGCPercent))
}

// gcTuner re-arms itself on every collection through a cleanup attached to
// an otherwise unreachable object.
type gcTuner struct {
	floor   uint64
	sample  []metrics.Sample
	mu      sync.Mutex
	stopped bool
}

// gcSentinel is the object whose collection marks the end of a cycle. It
// holds a pointer so that it is never put in a tiny-allocation block, whose
// cleanups may run late.
type gcSentinel struct {
	_ *byte
	_ [8]byte
}

// startGCTuner starts the tuner unless the user set GOGC or GOMEMLIMIT,
// which then rule alone. The returned function stops it and restores the
// default percent.
func startGCTuner(floor uint64) func() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	t := &gcTuner{floor: floor, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/gogc:percent"}}}
	t.adjust()
	t.arm()
	return t.stop
}

func (t *gcTuner) arm() {
	runtime.AddCleanup(&gcSentinel{}, func(t *gcTuner) {
		if t.adjust() {
			t.arm()
		}
	}, t)
}

// adjust sets the percent for the heap just marked live. It reports
// whether the tuner is still running.
func (t *gcTuner) adjust() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	if t.sample[0].Value.Kind() != metrics.KindUint64 || t.sample[1].Value.Kind() != metrics.KindUint64 {
		return false // a runtime without these metrics: leave GOGC alone
	}
	p := gcPercentFor(t.sample[0].Value.Uint64(), t.floor)
	// Small changes are not worth a call into the runtime.
	if cur := int(t.sample[1].Value.Uint64()); p != cur && (p == 100 || p*10 < cur*9 || p*10 > cur*11) {
		debug.SetGCPercent(p)
	}
	return true
}

func (t *gcTuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.stopped {
		t.stopped = true
		debug.SetGCPercent(100)
	}
}

// heapFloorFromEnv lets performance work try other floors:
// LABELSTUDIO_HEAP_FLOOR_MIB=N (0 turns the tuner off).
func heapFloorFromEnv() (uint64, bool) {
	v := os.Getenv("LABELSTUDIO_HEAP_FLOOR_MIB")
	if v == "" {
		return heapFloor, true
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return heapFloor, true
	}
	return n << 20, n > 0
}
