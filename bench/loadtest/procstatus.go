package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memStatus holds the memory figures of a process, in bytes, as read from
// /proc/<pid>/status.
type memStatus struct {
	VmPeak uint64 // peak virtual size
	VmSize uint64 // current virtual size
	VmHWM  uint64 // peak resident set size ("high water mark")
	VmRSS  uint64 // current resident set size
}

// parseProcStatus extracts VmPeak, VmSize, VmHWM and VmRSS from the text of
// a /proc/<pid>/status file. Values are given by the kernel in kB (KiB) and
// are returned in bytes. It fails when neither VmRSS nor VmHWM is present
// (a kernel thread or a zombie) or when a wanted line is malformed.
func parseProcStatus(r io.Reader) (memStatus, error) {
	var st memStatus
	var seen int
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch key {
		case "VmPeak":
			dst = &st.VmPeak
		case "VmSize":
			dst = &st.VmSize
		case "VmHWM":
			dst = &st.VmHWM
		case "VmRSS":
			dst = &st.VmRSS
		default:
			continue
		}
		n, err := parseKB(val)
		if err != nil {
			return memStatus{}, fmt.Errorf("%s: %w", key, err)
		}
		*dst = n
		if key == "VmHWM" || key == "VmRSS" {
			seen++
		}
	}
	if err := sc.Err(); err != nil {
		return memStatus{}, err
	}
	if seen == 0 {
		return memStatus{}, fmt.Errorf("no VmRSS or VmHWM line (kernel thread or exited process?)")
	}
	return st, nil
}

// parseKB parses a "<number> kB" value of a /proc status line into bytes.
func parseKB(s string) (uint64, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f) > 2 {
		return 0, fmt.Errorf("malformed value %q", strings.TrimSpace(s))
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("malformed number %q", f[0])
	}
	mult := uint64(1)
	if len(f) == 2 {
		switch strings.ToLower(f[1]) {
		case "kb":
			mult = 1024
		case "mb":
			mult = 1024 * 1024
		case "gb":
			mult = 1024 * 1024 * 1024
		default:
			return 0, fmt.Errorf("unknown unit %q", f[1])
		}
	}
	return n * mult, nil
}

// readProcStatus reads and parses /proc/<pid>/status.
func readProcStatus(pid int) (memStatus, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	st, err := parseProcStatus(bytes.NewReader(data))
	if err != nil {
		return memStatus{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return st, nil
}

// rssSampler polls the VmRSS of a process in the background and keeps the
// largest value seen. It complements VmHWM, which a process may reset.
type rssSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	max     uint64
	samples int
	err     error
}

// startRSSSampler starts polling /proc/<pid>/status every interval.
func startRSSSampler(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// sample takes one reading.
func (s *rssSampler) sample() {
	st, err := readProcStatus(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = err
		return
	}
	s.samples++
	s.max = max(s.max, st.VmRSS)
}

// Stop ends the polling and returns the largest VmRSS seen, the number of
// successful readings and the last reading error, if any.
func (s *rssSampler) Stop() (maxRSS uint64, samples int, err error) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.samples, s.err
}

// clockTicks is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture that matters here).
const clockTicks = 100

// readProcCPU returns the CPU time (user and system) a process has used,
// from fields 14 and 15 of /proc/<pid>/stat.
func readProcCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStatCPU(data)
}

// parseProcStatCPU reads utime and stime from the text of a
// /proc/<pid>/stat file. The command name (field 2) is in parentheses and
// may hold spaces, so fields are counted after its closing parenthesis.
func parseProcStatCPU(data []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in /proc stat text")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat text has %d fields after the name, want at least 13", len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] { // fields 14 (utime) and 15 (stime)
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat CPU time %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// hostCPU is the aggregate "cpu" line of /proc/stat: the machine's CPU
// time, in clock ticks, in all states and stolen by the hypervisor.
type hostCPU struct {
	total, steal uint64
}

// readHostCPU reads the machine's CPU times from /proc/stat.
func readHostCPU() (hostCPU, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return hostCPU{}, err
	}
	return parseHostCPU(data)
}

// parseHostCPU reads the first line of /proc/stat: "cpu" and the ticks
// spent in user, nice, system, idle, iowait, irq, softirq, steal, guest and
// guest_nice. Guest time is counted in user and nice already, so the total
// leaves it out. Kernels before 2.6.11 have no steal field: it counts 0.
func parseHostCPU(data []byte) (hostCPU, error) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 5 || f[0] != "cpu" {
		return hostCPU{}, fmt.Errorf("/proc/stat does not start with the cpu line")
	}
	var h hostCPU
	for i, s := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return hostCPU{}, fmt.Errorf("/proc/stat cpu time %q: %w", s, err)
		}
		h.total += n
		if i == 7 {
			h.steal = n
		}
	}
	return h, nil
}

// stealPercent is the share of the CPU time between a and b that the
// hypervisor gave to other machines, or -1 when none passed.
func stealPercent(a, b hostCPU) float64 {
	if b.total <= a.total {
		return -1
	}
	return 100 * float64(b.steal-a.steal) / float64(b.total-a.total)
}
