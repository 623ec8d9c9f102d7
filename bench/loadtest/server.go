package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// serverProc is a labelstudio server started by the harness in a temporary
// data directory.
type serverProc struct {
	cmd     *exec.Cmd
	tmp     string // temporary directory holding the data dir and the log
	dataDir string // the --root-dir given to the server
	logPath string
	url     string
	startup time.Duration // time until /api/health answered

	done    chan struct{}
	waitErr error

	logMu  sync.Mutex
	logBuf []byte // last bytes of the server output
}

// logTailSize is how many bytes of server output are kept for error reports.
const logTailSize = 4096

// Write keeps the tail of the server output; it implements io.Writer.
func (s *serverProc) Write(p []byte) (int, error) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.logBuf = append(s.logBuf, p...)
	if len(s.logBuf) > logTailSize {
		s.logBuf = append(s.logBuf[:0], s.logBuf[len(s.logBuf)-logTailSize:]...)
	}
	return len(p), nil
}

// logTail returns the last bytes the server wrote.
func (s *serverProc) logTail() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return string(s.logBuf)
}

// freePort asks the kernel for an unused TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// resolveBin makes bin usable after the working directory of the child is
// changed: a path with a separator becomes absolute, a bare name is looked
// up in PATH.
func resolveBin(bin string) (string, error) {
	if strings.ContainsRune(bin, os.PathSeparator) {
		return filepath.Abs(bin)
	}
	return exec.LookPath(bin)
}

// startServer runs `bin start bench --root-dir <tmp> --host 127.0.0.1
// --port <free port> --no-browser [extra...]` and waits until GET /api/health
// answers 200 {"status":"up"}. Server output goes to a log file in the
// temporary directory and, when echo is not nil, to echo as well.
func startServer(ctx context.Context, client *http.Client, bin string, extra []string, timeout time.Duration, echo io.Writer) (*serverProc, error) {
	path, err := resolveBin(bin)
	if err != nil {
		return nil, fmt.Errorf("server binary: %w", err)
	}
	tmp, err := os.MkdirTemp("", "labelstudio-bench-")
	if err != nil {
		return nil, err
	}
	s := &serverProc{tmp: tmp, dataDir: filepath.Join(tmp, "data"), logPath: filepath.Join(tmp, "server.log"), done: make(chan struct{})}
	fail := func(err error) (*serverProc, error) {
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := os.Mkdir(s.dataDir, 0o755); err != nil {
		return fail(err)
	}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return fail(err)
	}
	port, err := freePort()
	if err != nil {
		logFile.Close()
		return fail(err)
	}
	args := []string{"start", "bench", "--root-dir", s.dataDir, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--no-browser"}
	args = append(args, extra...)
	s.cmd = exec.Command(path, args...)
	s.cmd.Dir = tmp
	var out io.Writer = io.MultiWriter(logFile, s)
	if echo != nil {
		out = io.MultiWriter(out, echo)
	}
	s.cmd.Stdout = out
	s.cmd.Stderr = out
	setOwnProcessGroup(s.cmd)
	s.url = "http://127.0.0.1:" + strconv.Itoa(port)

	t0 := time.Now()
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return fail(fmt.Errorf("start %s: %w", path, err))
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logFile.Close()
		close(s.done)
	}()

	if err := waitHealthy(ctx, client, s.url, timeout, s.done); err != nil {
		s.stop(5 * time.Second)
		tail := strings.TrimSpace(s.logTail())
		os.RemoveAll(tmp)
		if tail != "" {
			err = fmt.Errorf("%w\nserver output (tail):\n%s", err, tail)
		}
		return nil, err
	}
	s.startup = time.Since(t0)
	return s, nil
}

// pid returns the process id of the server.
func (s *serverProc) pid() int { return s.cmd.Process.Pid }

// waitHealthy polls GET <base>/api/health until it answers 200 with
// {"status":"up"}, the timeout passes, ctx ends or exited is closed.
func waitHealthy(ctx context.Context, client *http.Client, base string, timeout time.Duration, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		last = probeHealth(ctx, client, base)
		if last == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server not healthy after %v: %s", timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("server exited before answering /api/health")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// probeHealth makes one health request and returns "" when the server is up,
// otherwise a description of what went wrong.
func probeHealth(ctx context.Context, client *http.Client, base string) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/health", nil)
	if err != nil {
		return err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("GET /api/health: status %d", resp.StatusCode)
	}
	var h struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &h); err != nil || h.Status != "up" {
		return fmt.Sprintf("GET /api/health: unexpected body %s", snippet(body))
	}
	return ""
}

// stop sends SIGTERM, waits up to grace for the server to exit, then kills
// it. It returns a description of how the process ended.
func (s *serverProc) stop(grace time.Duration) string {
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(grace):
			_ = s.cmd.Process.Kill()
			<-s.done
			return fmt.Sprintf("killed after not exiting within %v of SIGTERM", grace)
		}
	}
	if s.waitErr != nil {
		return s.waitErr.Error()
	}
	return "exit status 0"
}

// cleanup removes the temporary directory, unless keep is set.
func (s *serverProc) cleanup(keep bool) {
	if !keep {
		os.RemoveAll(s.tmp)
	}
}

// dirSize returns the total size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}
