package main

import (
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Disk probe: the write figures (import, completions) are bound by how long
// the disk takes to make a commit durable, which on shared machines varies
// from one hour to the next by a factor of two. The probe times what a
// bbolt commit does, on the file system of the server's data, so that
// figures taken at different times can be compared.

const (
	probePage    = 4096
	probePages   = 16  // data pages written per commit
	probeCommits = 100 // commits timed
)

// probeDisk writes, probeCommits times, probePages scattered pages and
// fdatasyncs, then one page and fdatasyncs again (as bbolt writes its meta
// page), in a file in dir, and returns the median time of such a commit.
func probeDisk(dir string) (time.Duration, error) {
	f, err := os.CreateTemp(dir, "disk-probe-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	const span = 1024 // pages in the file
	if _, err := f.WriteAt(make([]byte, span*probePage), 0); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	page := make([]byte, probePage)
	times := make([]time.Duration, 0, probeCommits)
	for i := range probeCommits {
		start := time.Now()
		for j := range probePages {
			off := int64((i*37+j*101)%(span-1)+1) * probePage
			if _, err := f.WriteAt(page, off); err != nil {
				return 0, err
			}
		}
		if err := fdatasync(f); err != nil {
			return 0, err
		}
		if _, err := f.WriteAt(page, 0); err != nil {
			return 0, err
		}
		if err := fdatasync(f); err != nil {
			return 0, err
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}

// probeDiskIn is probeDisk in a fresh directory under dir.
func probeDiskIn(dir string) (time.Duration, error) {
	d, err := os.MkdirTemp(dir, "probe-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(d)
	return probeDisk(filepath.Clean(d))
}
