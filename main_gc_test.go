package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{0, 16 * mib, maxGCPercent},
		{1 * mib, 16 * mib, maxGCPercent}, // 1500% wanted, capped
		{4 * mib, 16 * mib, 300},          // 4 → 16 MiB
		{5 * mib, 16 * mib, 220},
		{8 * mib, 16 * mib, 100}, // twice the live heap reaches the floor
		{64 * mib, 16 * mib, 100},
		{15 * mib, 16 * mib, 100},
	} {
		if got := gcPercentFor(c.live, c.floor); got != c.want {
			t.Errorf("gcPercentFor(%d MiB, %d MiB) = %d, want %d", c.live/mib, c.floor/mib, got, c.want)
		}
	}
}

func gogc() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// The tuner raises GOGC after a collection of a small heap, keeps doing so
// cycle after cycle, and restores 100 when stopped.
func TestGCTunerFollowsCollections(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	stop := startGCTuner(1 << 30)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	waitFor := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for gogc() != want {
			if time.Now().After(deadline) {
				t.Fatalf("GOGC is %d, want %d", gogc(), want)
			}
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(maxGCPercent)
	// Lower it behind the tuner's back: the next collections must bring it
	// back, which proves the tuner re-armed itself.
	for range 3 {
		debug.SetGCPercent(100)
		waitFor(maxGCPercent)
	}
	stop()
	stopped = true
	if got := gogc(); got != 100 {
		t.Fatalf("GOGC after stop is %d, want 100", got)
	}
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if got := gogc(); got != 100 {
		t.Fatalf("GOGC after stop and a collection is %d, want 100", got)
	}
}

// A user's GOGC rules alone.
func TestGCTunerLeavesUserGOGC(t *testing.T) {
	t.Setenv("GOGC", "100")
	stop := startGCTuner(1 << 30)
	defer stop()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if got := gogc(); got != 100 {
		t.Fatalf("GOGC is %d with GOGC=100 in the environment", got)
	}
}
