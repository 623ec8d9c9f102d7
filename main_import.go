package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/server"
	"labelstudio/store"
)

// uploadDirName is the folder of the data directory that holds the media
// files imports upload (one folder per project inside).
const uploadDirName = "upload"

// localRootsFileName is the file of the data directory that remembers the
// local-files roots the CLI loaders registered, per project. It lives
// outside the database on purpose: the HTTP API cannot change it.
const localRootsFileName = "local-files-roots.json"

const importUsage = `Usage:
  labelstudio import PROJECT FILE... [options]
      import files into a project without a running server: JSON, CSV,
      TSV, TXT, HTML, media files and ZIP archives of them, as the Import
      page does; all of them or nothing

Options:
  --root-dir DIR          data directory (default $LABELSTUDIO_HOME, else the user config dir)
  --input-format FORMAT   read the one PATH as json, json-dir, text, text-dir, image-dir or audio-dir
  --skip-duplicates       leave out tasks whose data the project already has
  --max-tasks N           refuse an import of more than N tasks (default: no cap)
  --allow-serving-local-files --local-files-root DIR   (image-dir, audio-dir) see start
`

// importFlags are the import and local-files options of start and init.
type importFlags struct {
	inputPath   string
	inputFormat string
	allowLocal  bool
	roots       rootList
	maxTasks    int
	// dataDir is set once the data directory is known.
	dataDir string
}

// rootList is a repeatable --local-files-root flag.
type rootList []string

func (r *rootList) String() string { return strings.Join(*r, ",") }

func (r *rootList) Set(v string) error {
	abs, err := filepath.Abs(v)
	if err != nil {
		return fmt.Errorf("--local-files-root %s: %w", v, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return fmt.Errorf("--local-files-root %s: not a folder", v)
	}
	*r = append(*r, abs)
	return nil
}

// addImportFlags registers the import flags of start and init.
func addImportFlags(fs *flag.FlagSet, f *importFlags) {
	fs.StringVar(&f.inputPath, "input-path", "", "initial tasks: a file or folder")
	fs.StringVar(&f.inputPath, "i", "", "initial tasks: a file or folder")
	fs.StringVar(&f.inputFormat, "input-format", "json", "format of --input-path: "+strings.Join(server.InputFormats, ", "))
	fs.BoolVar(&f.allowLocal, "allow-serving-local-files", false, "serve files of the local-files roots at /data/<file>?d=<dir>")
	fs.Var(&f.roots, "local-files-root", "folder /data/<file>?d=<dir> may serve from (repeatable)")
	fs.IntVar(&f.maxTasks, "max-import-tasks", server.MaxImportTasks, "most tasks one import through the API may hold (0: no cap)")
}

// limits are the server's import limits.
func (f *importFlags) limits() server.ImportLimits {
	n := f.maxTasks
	if n <= 0 {
		n = -1
	}
	return server.ImportLimits{MaxTasks: n}
}

func (f *importFlags) uploadDir() string {
	if f.dataDir == "" {
		return ""
	}
	return filepath.Join(f.dataDir, uploadDirName)
}

// prepare runs after the project is set up: it imports --input-path (at
// init, or at start with skip-duplicates so that restarts add nothing
// twice), remembers the folder of image-dir/audio-dir loaders as a
// local-files root, and loads the roots remembered before.
func (f *importFlags) prepare(st *store.Store, cmd string, o options, stdout io.Writer) error {
	if cmd != "start-multi-session" && o.project != "" {
		saved, err := loadRoots(f.dataDir, o.project)
		if err != nil {
			return err
		}
		f.roots = appendNew(f.roots, saved...)
		if f.allowLocal && (cmd == "init" || o.init) {
			if _, err := st.UpdateSettings(o.project, func(s *store.Settings) error {
				s.AllowServingLocalFiles = true
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if f.inputPath == "" || cmd == "start-multi-session" {
		return nil
	}
	if !contains(server.InputFormats, f.inputFormat) {
		return fmt.Errorf("unknown --input-format %q: use %s", f.inputFormat, strings.Join(server.InputFormats, ", "))
	}
	if f.inputFormat == "image-dir" || f.inputFormat == "audio-dir" {
		abs, err := filepath.Abs(f.inputPath)
		if err != nil {
			return err
		}
		if err := saveRoot(f.dataDir, o.project, abs); err != nil {
			return err
		}
		f.roots = appendNew(f.roots, abs)
	}
	fresh := cmd == "init" || o.init
	sum, err := server.ImportInput(st, o.project, f.inputPath, f.inputFormat, server.LocalImport{
		UploadDir:      f.uploadDir(),
		Limits:         server.ImportLimits{MaxTasks: -1},
		SkipDuplicates: !fresh,
	})
	if err != nil {
		return importFailure(f.inputPath, err)
	}
	fmt.Fprintf(stdout, "Imported %d tasks from %s", sum.Stored, f.inputPath)
	if sum.Skipped > 0 {
		fmt.Fprintf(stdout, " (%d already there)", sum.Skipped)
	}
	fmt.Fprintln(stdout)
	if (f.inputFormat == "image-dir" || f.inputFormat == "audio-dir") && !f.allowLocal {
		p, err := st.Project(o.project)
		if err == nil && !p.Settings.AllowServingLocalFiles {
			fmt.Fprintln(stdout, "Note: start with --allow-serving-local-files so that the labeling page can show these files.")
		}
	}
	return nil
}

// importFailure turns a refused import into one error listing its
// messages (at most 20).
func importFailure(what string, err error) error {
	msgs, ok := server.IsImportError(err)
	if !ok {
		return fmt.Errorf("import %s: %w", what, err)
	}
	if len(msgs) > 20 {
		msgs = append(msgs[:20], fmt.Sprintf("... and %d more", len(msgs)-20))
	}
	return fmt.Errorf("import %s refused, nothing was imported:\n  %s", what, strings.Join(msgs, "\n  "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// loadRoots returns the local-files roots remembered for a project.
func loadRoots(dataDir, project string) ([]string, error) {
	m, err := readRootsFile(dataDir)
	if err != nil {
		return nil, err
	}
	return m[project], nil
}

var rootsMu sync.Mutex

func readRootsFile(dataDir string) (map[string][]string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, localRootsFileName))
	if errors.Is(err, os.ErrNotExist) {
		return map[string][]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the local-files roots: %w", err)
	}
	m := map[string][]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read the local-files roots %s: %w", filepath.Join(dataDir, localRootsFileName), err)
	}
	return m, nil
}

// saveRoot remembers a local-files root for a project.
func saveRoot(dataDir, project, root string) error {
	rootsMu.Lock()
	defer rootsMu.Unlock()
	m, err := readRootsFile(dataDir)
	if err != nil {
		return err
	}
	if contains(m[project], root) {
		return nil
	}
	m[project] = append(m[project], root)
	sort.Strings(m[project])
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dataDir, localRootsFileName+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save the local-files roots: %w", err)
	}
	return os.Rename(tmp, filepath.Join(dataDir, localRootsFileName))
}

// runImport is the import command: labelstudio import PROJECT FILE...
func runImport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage) }
	var rootDir, format string
	var skip bool
	var maxTasks int
	var imp importFlags
	fs.StringVar(&rootDir, "root-dir", "", "data directory")
	fs.StringVar(&format, "input-format", "", "read the one PATH with a CLI loader")
	fs.BoolVar(&skip, "skip-duplicates", false, "leave out duplicates")
	fs.IntVar(&maxTasks, "max-tasks", -1, "refuse more tasks than this")
	fs.BoolVar(&imp.allowLocal, "allow-serving-local-files", false, "")
	fs.Var(&imp.roots, "local-files-root", "")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(pos) < 2 {
		fmt.Fprint(stderr, "labelstudio import: a project and at least one file are required\n\n"+importUsage)
		return 2
	}
	if format != "" && len(pos) != 2 {
		fmt.Fprintln(stderr, "labelstudio import: --input-format reads exactly one PATH")
		return 2
	}
	if maxTasks == 0 {
		maxTasks = -1
	}
	if err := importCommand(rootDir, pos[0], pos[1:], format, skip, maxTasks, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "labelstudio import: %v\n", err)
		return 1
	}
	return 0
}

func importCommand(rootDir, project string, paths []string, format string, skip bool, maxTasks int, stdout, stderr io.Writer) error {
	dir, err := dataDir(rootDir)
	if err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(dir, dbFileName), store.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%w: a running labelstudio uses %s; stop it first, or import through its Import page or POST /api/project/import", err, dir)
		}
		return err
	}
	defer st.Close()
	if _, err := st.Project(project); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no project %q in %s: create it with labelstudio init %s", project, dir, project)
		}
		return err
	}
	bar := newProgressBar(stderr)
	defer bar.stop()
	li := server.LocalImport{
		UploadDir:      filepath.Join(dir, uploadDirName),
		Limits:         server.ImportLimits{MaxTasks: maxTasks},
		SkipDuplicates: skip,
		Progress:       bar.items,
	}
	var sum server.ImportSummary
	if format != "" {
		if !contains(server.InputFormats, format) {
			return fmt.Errorf("unknown --input-format %q: use %s", format, strings.Join(server.InputFormats, ", "))
		}
		if format == "image-dir" || format == "audio-dir" {
			abs, err := filepath.Abs(paths[0])
			if err != nil {
				return err
			}
			if err := saveRoot(dir, project, abs); err != nil {
				return err
			}
		}
		sum, err = server.ImportInput(st, project, paths[0], format, li)
	} else {
		var inputs []server.NamedReader
		for _, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			if fi.IsDir() {
				return fmt.Errorf("%s is a folder: pass its files, or use --input-format json-dir, text-dir, image-dir or audio-dir", p)
			}
			inputs = append(inputs, server.NamedReader{Name: p, R: bar.file(f, fi.Size())})
		}
		sum, err = server.ImportReaders(st, project, inputs, li)
	}
	bar.stop()
	if err != nil {
		return importFailure(strings.Join(paths, ", "), err)
	}
	fmt.Fprintf(stdout, "Imported %d tasks into %q in %.1fs", sum.Stored, project, sum.Duration.Seconds())
	if sum.Skipped > 0 {
		fmt.Fprintf(stdout, ", %d duplicates left out", sum.Skipped)
	}
	if n := len(sum.IDs); n > 0 {
		last := sum.IDs[n-1]
		fmt.Fprintf(stdout, " (ids %d to %d)", sum.IDs[0].First, last.First+int64(last.N)-1)
	}
	fmt.Fprintln(stdout)
	return nil
}

// progressBar draws the progress of an import on a terminal's stderr; on
// anything else it draws nothing.
type progressBar struct {
	w       io.Writer
	on      bool
	total   atomic.Int64
	read    atomic.Int64
	n       atomic.Int64
	done    chan struct{}
	stopped sync.Once
}

func newProgressBar(w io.Writer) *progressBar {
	b := &progressBar{w: w, done: make(chan struct{})}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.on = true
			go b.loop()
		}
	}
	return b
}

func (b *progressBar) items(n int) { b.n.Store(int64(n)) }

// file wraps an input so that reads count toward the bar; it keeps the
// in-place reading (ReadAt, Size) of the importer.
func (b *progressBar) file(f *os.File, size int64) io.Reader {
	if !b.on {
		return f
	}
	b.total.Add(size)
	return &countedFile{f: f, size: size, bar: b}
}

type countedFile struct {
	f    *os.File
	size int64
	max  atomic.Int64
	bar  *progressBar
}

func (c *countedFile) Read(p []byte) (int, error) { return c.f.Read(p) }
func (c *countedFile) Size() int64                { return c.size }

func (c *countedFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.f.ReadAt(p, off)
	end := off + int64(n)
	for {
		old := c.max.Load()
		if end <= old || c.max.CompareAndSwap(old, end) {
			if end > old {
				c.bar.read.Add(end - old)
			}
			break
		}
	}
	return n, err
}

func (b *progressBar) loop() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
			b.draw()
		}
	}
}

func (b *progressBar) draw() {
	total, read := b.total.Load(), b.read.Load()
	line := fmt.Sprintf("importing: %d tasks read", b.n.Load())
	if total > 0 {
		pct := float64(read) * 100 / float64(total)
		width := 30
		full := int(pct / 100 * float64(width))
		line = fmt.Sprintf("importing [%s%s] %3.0f%%  %s of %s, %d tasks", strings.Repeat("#", full), strings.Repeat(".", width-full), pct,
			mib(read), mib(total), b.n.Load())
	}
	fmt.Fprintf(b.w, "\r%-90s", line)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func (b *progressBar) stop() {
	b.stopped.Do(func() {
		close(b.done)
		if b.on {
			b.draw()
			fmt.Fprintln(b.w)
		}
	})
}
