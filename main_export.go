package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"labelstudio/exports"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// runExport is `labelstudio export PROJECT --format F -o FILE`: the export
// of the web page, written to a file without a server.
func runExport(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet("export", &o, stderr)
	format := fs.String("format", "JSON", "export format (JSON, JSON_MIN, CSV, TSV, CONLL2003, COCO, VOC, YOLO, ...)")
	out := fs.String("o", "", "output file (default: the export's usual name in the current folder)")
	all := fs.Bool("all-tasks", false, "include tasks without completions (JSON)")
	preds := fs.Bool("include-predictions", false, "include predictions (JSON)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: labelstudio export PROJECT --format F [-o FILE] [--all-tasks] [--include-predictions] [--root-dir DIR]\n")
	}
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil || len(pos) != 1 {
		fs.Usage()
		return 2
	}
	if err := exportToFile(pos[0], *format, *out, *all, *preds, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "labelstudio export: %v\n", err)
		return 1
	}
	return 0
}

func exportToFile(project, format, out string, all, preds bool, o options, stdout, stderr io.Writer) error {
	dir, err := dataDir(o.rootDir)
	if err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(dir, dbFileName), store.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("%w (a running server holds the database: download the export from its Export page instead)", err)
	}
	defer st.Close()
	p, err := st.Project(project)
	if err != nil {
		return err
	}
	cfg, err := labelconfig.Parse(p.LabelConfig)
	if err != nil {
		return fmt.Errorf("the project's labeling config: %w", err)
	}
	schema := exports.SchemaFromConfig(cfg)
	opts := exports.DefaultOptions()
	opts.OnlyCompleted = !all
	opts.IncludePredictions = preds
	if out == "" {
		out = exports.Filename(time.Now())
	}
	total := p.Counters.CompletedTasks
	if all {
		total = p.Counters.Tasks
	}
	var done atomic.Int64
	stop := startExportProgress(stderr, &done, total)
	tasks := func(fn func(store.Task) error) error {
		done.Store(0)
		return st.EachTask(project, opts.OnlyCompleted, func(t store.Task) error {
			done.Add(1)
			return fn(t)
		})
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".export-*")
	if err != nil {
		stop()
		return err
	}
	defer os.Remove(tmp.Name())
	err = exports.Write(tmp, format, tasks, schema, opts)
	stop()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, exports.ErrUnknownFormat) || errors.Is(err, exports.ErrUnsupportedFormat) {
		offered := append(exports.Supported(schema), exports.SupportedExtras(schema)...)
		return fmt.Errorf("%w; this project offers %v", err, offered)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Exported %d tasks of %q as %s to %s\n", done.Load(), project, format, out)
	return nil
}

// startExportProgress draws "exported N of M tasks" on a terminal's stderr
// until the returned stop is called; elsewhere it draws nothing.
func startExportProgress(w io.Writer, done *atomic.Int64, total int64) (stop func()) {
	f, ok := w.(*os.File)
	if !ok {
		return func() {}
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				fmt.Fprintf(w, "\rexported %d of %d tasks\n", done.Load(), total)
				return
			case <-t.C:
				fmt.Fprintf(w, "\rexported %d of %d tasks", done.Load(), total)
			}
		}
	}()
	return func() { close(quit); <-finished }
}
