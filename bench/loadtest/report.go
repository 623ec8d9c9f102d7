package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// phaseReport holds the figures of one phase.
type phaseReport struct {
	Name          string  `json:"name"`
	N             int     `json:"n"`        // answered requests
	Failures      int     `json:"failures"` // unexpected statuses, errors, bad bodies
	MinMS         float64 `json:"min_ms"`
	MedianMS      float64 `json:"median_ms"`
	P99MS         float64 `json:"p99_ms"`
	MaxMS         float64 `json:"max_ms"`
	MeanMS        float64 `json:"mean_ms"`
	WallSeconds   float64 `json:"wall_seconds"`
	Rate          float64 `json:"rate"`      // per second, see RateUnit
	RateUnit      string  `json:"rate_unit"` // req/s, tasks/s or compl/s
	MBPerSec      float64 `json:"mb_per_sec,omitempty"`
	RSSAfterBytes uint64  `json:"rss_after_bytes,omitempty"`
	// ServerCPUSeconds is the CPU time the server used during the phase
	// (user and system, 10 ms resolution): unlike wall time it does not
	// grow when other work shares the machine.
	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
	// StealPercent is the share of the machine's CPU time that the
	// hypervisor gave to other machines during the phase (-1 unknown): on
	// a shared virtual machine it tells a slow run from a slow server.
	StealPercent float64 `json:"steal_percent"`
	Note         string  `json:"note,omitempty"`
}

// rssReport holds the memory figures of the server for one size.
type rssReport struct {
	PeakBytes       uint64 `json:"vm_hwm_bytes"`
	FinalBytes      uint64 `json:"vm_rss_final_bytes"`
	MaxSampledBytes uint64 `json:"vm_rss_max_sampled_bytes"`
	Samples         int    `json:"samples"`
	Error           string `json:"error,omitempty"`
}

// sizeReport holds the figures of one task-count size.
type sizeReport struct {
	Tasks          int           `json:"tasks"`
	ServerURL      string        `json:"server_url"`
	PID            int           `json:"pid,omitempty"`
	StartupSeconds float64       `json:"startup_seconds,omitempty"`
	Phases         []phaseReport `json:"phases"`
	RSS            *rssReport    `json:"rss,omitempty"`
	DiskBytes      int64         `json:"disk_bytes,omitempty"`
	// DiskCommitMs is the median time, on the data's file system after the
	// run, of a commit like bbolt's: 16 scattered pages, fdatasync, one
	// page, fdatasync (see probeDisk).
	DiskCommitMs   float64  `json:"disk_commit_ms,omitempty"`
	ServerExit     string   `json:"server_exit,omitempty"`
	Failures       int      `json:"failures"`
	FailureSamples []string `json:"failure_samples,omitempty"`
	Error          string   `json:"error,omitempty"`
}

// fullReport is what -json writes.
type fullReport struct {
	StartedAt   time.Time     `json:"started_at"`
	GoVersion   string        `json:"go_version"`
	Mode        string        `json:"mode"`
	Batch       int           `json:"batch"`
	Clients     int           `json:"clients"`
	Completions int           `json:"completions"`
	Samples     int           `json:"samples"`
	Deletes     int           `json:"deletes"`
	Runs        []*sizeReport `json:"runs"`
	Failures    int           `json:"failures"`
}

// mib converts bytes to MiB.
func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// fmtMS formats a millisecond figure for the table.
func fmtMS(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// formatTable lays out rows under header in aligned columns separated by
// two spaces; columns whose right flag is set are right-aligned. Trailing
// spaces are trimmed.
func formatTable(header []string, right []bool, rows [][]string) string {
	width := make([]int, len(header))
	for _, row := range append([][]string{header}, rows...) {
		for i, cell := range row {
			width[i] = max(width[i], len(cell))
		}
	}
	var b strings.Builder
	for _, row := range append([][]string{header}, rows...) {
		var line strings.Builder
		for i, cell := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-len(cell))
			if right[i] {
				line.WriteString(pad + cell)
			} else {
				line.WriteString(cell + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// printSize writes the table and memory lines of one size.
func printSize(w io.Writer, o *options, rep *sizeReport) {
	fmt.Fprintf(w, "\n== tasks=%d batch=%d clients=%d completions=%d samples=%d ==\n",
		rep.Tasks, o.batch, o.clients, o.completions, o.samples)
	server := "server: " + rep.ServerURL
	if rep.PID > 0 {
		server += fmt.Sprintf(" (pid %d)", rep.PID)
	}
	if rep.StartupSeconds > 0 {
		server += fmt.Sprintf(", healthy after %.2fs", rep.StartupSeconds)
	}
	fmt.Fprintln(w, server)

	header := []string{"phase", "n", "fail", "median(ms)", "p99(ms)", "max(ms)", "rate", "unit", "srv-cpu(s)", "steal%", "rss(MiB)", "note"}
	right := []bool{false, true, true, true, true, true, true, false, true, true, true, false}
	var rows [][]string
	for _, p := range rep.Phases {
		rss := "-"
		if p.RSSAfterBytes > 0 {
			rss = strconv.FormatFloat(mib(p.RSSAfterBytes), 'f', 1, 64)
		}
		var notes []string
		if p.MBPerSec > 0 {
			notes = append(notes, fmt.Sprintf("%.2f MB/s", p.MBPerSec))
		}
		if p.Note != "" {
			notes = append(notes, p.Note)
		}
		cpu := "-"
		if p.ServerCPUSeconds > 0 {
			cpu = strconv.FormatFloat(p.ServerCPUSeconds, 'f', 2, 64)
		}
		steal := "-"
		if p.StealPercent >= 0 {
			steal = strconv.FormatFloat(p.StealPercent, 'f', 0, 64)
		}
		rows = append(rows, []string{
			p.Name, strconv.Itoa(p.N), strconv.Itoa(p.Failures),
			fmtMS(p.MedianMS), fmtMS(p.P99MS), fmtMS(p.MaxMS),
			strconv.FormatFloat(p.Rate, 'f', 1, 64), p.RateUnit, cpu, steal, rss,
			strings.Join(notes, ", "),
		})
	}
	fmt.Fprint(w, formatTable(header, right, rows))

	if rep.Error != "" {
		fmt.Fprintf(w, "error: %s\n", rep.Error)
	}
	if rep.Failures > 0 {
		fmt.Fprintf(w, "FAILURES: %d\n", rep.Failures)
		for _, m := range rep.FailureSamples {
			fmt.Fprintf(w, "  %s\n", m)
		}
		if rep.Failures > len(rep.FailureSamples) {
			fmt.Fprintf(w, "  ... %d more\n", rep.Failures-len(rep.FailureSamples))
		}
	} else {
		fmt.Fprintln(w, "failures: 0")
	}
	if rep.DiskBytes > 0 {
		fmt.Fprintf(w, "data dir: %.1f MiB on disk\n", mib(uint64(rep.DiskBytes)))
	}
	if rep.DiskCommitMs > 0 {
		fmt.Fprintf(w, "disk: a commit of %d scattered pages with 2 fdatasync takes %.2f ms (median of %d, after the run)\n",
			probePages, rep.DiskCommitMs, probeCommits)
	}
	if rep.ServerExit != "" {
		fmt.Fprintf(w, "server exit after SIGTERM: %s\n", rep.ServerExit)
	}
	switch {
	case rep.RSS == nil:
		fmt.Fprintln(w, "peak RSS: n/a (no server pid; give -pid)")
	case rep.RSS.Error != "":
		fmt.Fprintf(w, "peak RSS: n/a (%s)\n", rep.RSS.Error)
	default:
		fmt.Fprintf(w, "VmRSS: %.1f MiB at end, %.1f MiB max over %d samples\n",
			mib(rep.RSS.FinalBytes), mib(rep.RSS.MaxSampledBytes), rep.RSS.Samples)
		fmt.Fprintf(w, "peak RSS: %.1f MiB (VmHWM)\n", mib(rep.RSS.PeakBytes))
	}
}

// writeJSON writes the report to path through a temporary file.
func writeJSON(path string, rep *fullReport) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
