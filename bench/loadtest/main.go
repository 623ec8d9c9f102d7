// Command loadtest is a load harness for a live labelstudio server (the Go
// re-implementation of the Label Studio 0.8.1 HTTP API).
//
// It either starts the server itself (-bin PATH, one fresh temporary data
// directory per task-count size) or talks to a running one (-url, with -pid
// for memory figures). For each size it sets a labeling config, imports the
// tasks in batches, reads the project, task pages, single tasks and the next
// task, posts completions from concurrent clients and deletes a few tasks,
// checking every status and the counts. It prints per phase the number of
// requests, failures, median, p99 and max latency, throughput and the
// server's VmRSS, then the server's peak RSS (VmHWM from /proc/<pid>/status).
//
// Usage:
//
//	go run ./bench/loadtest -bin bin/labelstudio -tasks 100000,1000000
//	go run ./bench/loadtest -url http://127.0.0.1:8080 -pid 1234 -tasks 10000
//
// The exit status is 0 when every request got its expected answer, 1 when
// some failed and 2 on a usage error or when the server could not be run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options holds the command-line settings.
type options struct {
	bin          string
	url          string
	pid          int
	tasks        []int
	batch        int
	clients      int
	completions  int
	samples      int
	deletes      int
	timeout      time.Duration
	startTimeout time.Duration
	serverArgs   []string
	jsonPath     string
	keep         bool
	serverLog    bool
	seed         int64
}

// sizeList is a flag.Value holding a comma-separated list of task counts;
// each count may end in k (thousand) or m (million).
type sizeList []int

// String implements flag.Value.
func (l *sizeList) String() string {
	parts := make([]string, len(*l))
	for i, n := range *l {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value; it replaces the default list.
func (l *sizeList) Set(s string) error {
	sizes, err := parseSizes(s)
	if err != nil {
		return err
	}
	*l = sizes
	return nil
}

// parseSizes parses "100000,1000000" or "100k,1m" into task counts.
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		mult := 1
		switch {
		case strings.HasSuffix(part, "k"):
			mult, part = 1000, strings.TrimSuffix(part, "k")
		case strings.HasSuffix(part, "m"):
			mult, part = 1000000, strings.TrimSuffix(part, "m")
		}
		n, err := strconv.Atoi(part)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad task count %q", part)
		}
		out = append(out, n*mult)
	}
	return out, nil
}

// parseOptions reads the flags in args.
func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{tasks: []int{100000}}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "", "labelstudio `binary` to start per task-count size (mutually exclusive with -url)")
	fs.StringVar(&o.url, "url", "", "`URL` of a running server, e.g. http://127.0.0.1:8080")
	fs.IntVar(&o.pid, "pid", 0, "process id of the -url server, for RSS figures")
	fs.Var((*sizeList)(&o.tasks), "tasks", "comma-separated task counts, one run each (k and m suffixes allowed)")
	fs.IntVar(&o.batch, "batch", 1000, "tasks per import request")
	fs.IntVar(&o.clients, "clients", 4, "concurrent clients posting completions")
	fs.IntVar(&o.completions, "completions", 4000, "number of completion POSTs")
	fs.IntVar(&o.samples, "samples", 200, "requests per read phase")
	fs.IntVar(&o.deletes, "deletes", 10, "tasks deleted in the delete phase")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "timeout of one request")
	fs.DurationVar(&o.startTimeout, "start-timeout", time.Minute, "how long to wait for a started server to be healthy")
	serverArgs := fs.String("server-args", "", "extra space-separated arguments for the started server")
	fs.StringVar(&o.jsonPath, "json", "", "also write the figures as JSON to `FILE`")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary data directories of started servers")
	fs.BoolVar(&o.serverLog, "server-log", false, "copy the output of started servers to stderr")
	fs.Int64Var(&o.seed, "seed", 1, "seed for the choice of random task ids")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: loadtest (-bin PATH | -url URL [-pid N]) [flags]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	o.serverArgs = strings.Fields(*serverArgs)
	switch {
	case (o.bin == "") == (o.url == ""):
		return nil, errors.New("give exactly one of -bin and -url")
	case o.bin != "" && o.pid != 0:
		return nil, errors.New("-pid is for -url; with -bin the pid of the started server is used")
	case o.batch < 1, o.clients < 1, o.samples < 1:
		return nil, errors.New("-batch, -clients and -samples must be at least 1")
	case o.completions < 0, o.deletes < 0, o.pid < 0:
		return nil, errors.New("-completions, -deletes and -pid must not be negative")
	}
	if o.url != "" {
		u, err := url.Parse(o.url)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("bad -url %q", o.url)
		}
		o.url = strings.TrimRight(o.url, "/")
	}
	return o, nil
}

// newClient returns the HTTP client shared by all requests: keep-alive, no
// proxy, and enough idle connections for the concurrent clients.
func newClient(o *options) *http.Client {
	return &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        4*o.clients + 16,
			MaxIdleConnsPerHost: 2*o.clients + 8,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

// runAll runs every task-count size, printing each table to out and
// progress to progress. A non-nil error means a size could not be run at
// all; request failures are counted in the report.
func runAll(ctx context.Context, o *options, out, progress io.Writer) (*fullReport, error) {
	client := newClient(o)
	defer client.CloseIdleConnections()
	full := &fullReport{
		StartedAt: time.Now().UTC(), GoVersion: runtime.Version(), Mode: "url",
		Batch: o.batch, Clients: o.clients, Completions: o.completions, Samples: o.samples, Deletes: o.deletes,
	}
	if o.bin != "" {
		full.Mode = "bin"
	}
	for _, tasks := range o.tasks {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(progress, "loadtest: %d tasks...\n", tasks)
		rep, err := runOne(ctx, client, o, tasks, progress)
		if rep != nil {
			full.Runs = append(full.Runs, rep)
			full.Failures += rep.Failures
			printSize(out, o, rep)
		}
		if err != nil {
			return full, err
		}
	}
	if ctx.Err() != nil {
		return full, fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return full, nil
}

// runOne runs one size, starting and stopping a server in -bin mode.
func runOne(ctx context.Context, client *http.Client, o *options, tasks int, progress io.Writer) (*sizeReport, error) {
	if o.bin == "" {
		if err := waitHealthy(ctx, client, o.url, 5*time.Second, nil); err != nil {
			return nil, err
		}
		return newRunner(client, o.url, o.pid, o, progress).runSize(ctx, tasks), nil
	}
	var echo io.Writer
	if o.serverLog {
		echo = progress
	}
	srv, err := startServer(ctx, client, o.bin, o.serverArgs, o.startTimeout, echo)
	if err != nil {
		return nil, err
	}
	defer srv.cleanup(o.keep)
	rep := newRunner(client, srv.url, srv.pid(), o, progress).runSize(ctx, tasks)
	rep.StartupSeconds = srv.startup.Seconds()
	client.CloseIdleConnections()
	rep.ServerExit = srv.stop(30 * time.Second)
	if n, err := dirSize(srv.dataDir); err == nil {
		rep.DiskBytes = n
	}
	if d, err := probeDiskIn(srv.tmp); err == nil {
		rep.DiskCommitMs = float64(d) / float64(time.Millisecond)
	} else {
		fmt.Fprintf(progress, "loadtest: disk probe: %v\n", err)
	}
	if o.keep {
		fmt.Fprintf(progress, "loadtest: kept %s\n", srv.tmp)
	}
	return rep, nil
}

// main parses the flags, runs the sizes and sets the exit status.
func main() {
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loadtest:", err)
		}
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	full, runErr := runAll(ctx, o, os.Stdout, os.Stderr)
	if o.jsonPath != "" {
		if err := writeJSON(o.jsonPath, full); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: writing JSON:", err)
			runErr = errors.Join(runErr, err)
		}
	}
	switch {
	case runErr != nil:
		fmt.Fprintln(os.Stderr, "loadtest:", runErr)
		os.Exit(2)
	case full.Failures > 0:
		fmt.Fprintf(os.Stderr, "loadtest: %d failed requests\n", full.Failures)
		os.Exit(1)
	}
}
