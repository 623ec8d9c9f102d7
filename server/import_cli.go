package server

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"labelstudio/server/importer"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// LocalImport configures an import run outside HTTP, by the command line.
type LocalImport struct {
	// UploadDir is where media files go, as Options.UploadDir.
	UploadDir string
	// Limits bound the import; MaxTasks 0 means the server's default cap,
	// negative no cap.
	Limits ImportLimits
	// SkipDuplicates leaves out tasks whose data a task of the project
	// already has.
	SkipDuplicates bool
	// Progress, when set, is called after each stored chunk with the
	// number of items read so far.
	Progress func(items int)
}

// ImportSummary tells what an import stored.
type ImportSummary struct {
	store.ImportResult
	// Formats counts the files read by extension.
	Formats  map[string]int
	Duration time.Duration
}

// NamedReader is one input of ImportReaders: a name (its extension picks
// the parser) and its content. A reader that is an *os.File, or has ReadAt
// and Size methods, is read in place from its start.
type NamedReader struct {
	Name string
	R    io.Reader
}

// ImportReaders imports inputs into a project exactly as
// POST /api/project/import imports uploaded files: all of them or nothing.
// A refused import returns an *ImportError holding the messages.
func ImportReaders(st *store.Store, project string, inputs []NamedReader, o LocalImport) (ImportSummary, error) {
	start := time.Now()
	run, err := newLocalRun(st, project, store.ImportOptions{SkipDuplicates: o.SkipDuplicates}, o)
	if err != nil {
		return ImportSummary{}, err
	}
	proc := run.processor()
	for _, in := range inputs {
		if err = proc.File(in.Name, in.R); err != nil {
			break
		}
	}
	res, err := run.finish(err)
	if err != nil {
		return ImportSummary{}, err
	}
	return ImportSummary{ImportResult: res, Formats: proc.Formats(), Duration: time.Since(start)}, nil
}

// ImportFiles imports files from disk; see ImportReaders.
func ImportFiles(st *store.Store, project string, paths []string, o LocalImport) (ImportSummary, error) {
	var inputs []NamedReader
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return ImportSummary{}, fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		inputs = append(inputs, NamedReader{Name: p, R: f})
	}
	return ImportReaders(st, project, inputs, o)
}

func newLocalRun(st *store.Store, project string, opts store.ImportOptions, o LocalImport) (*importRun, error) {
	p, err := st.Project(project)
	if err != nil {
		return nil, err
	}
	cfg, err := labelconfig.Parse(p.LabelConfig)
	if err != nil {
		cfg = nil
	}
	run := newImportRun(st, project, cfg, opts, o.Limits, o.UploadDir)
	run.progress = o.Progress
	return run, nil
}

// InputFormats are the --input-format values of the command line
// (api.md §9).
var InputFormats = []string{"json", "json-dir", "text", "text-dir", "image-dir", "audio-dir"}

// Extensions of the files the image-dir and audio-dir loaders take.
var (
	imageExtensions = []string{".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".svg"}
	audioExtensions = []string{".wav", ".mp3", ".flac", ".ogg", ".aiff", ".aif", ".au", ".m4a", ".opus"}
)

// ImportInput loads the initial tasks of the command line's
// -i/--input-path PATH --input-format FORMAT, as 0.8.1 does at init:
//
//   - json: a JSON file (a list of tasks or one task);
//   - json-dir: every .json file of a folder, in name order;
//   - text: a text file, one task per line;
//   - text-dir: every file of a folder, one task per line;
//   - image-dir, audio-dir: every image (audio) file below a folder, one
//     task each pointing at /data/<file>?d=<its folder>, with task_path set;
//     ids start at 1. The folder must be served as a local-files root.
func ImportInput(st *store.Store, project, path, format string, o LocalImport) (ImportSummary, error) {
	start := time.Now()
	opts := store.ImportOptions{SkipDuplicates: o.SkipDuplicates}
	if format == "image-dir" || format == "audio-dir" {
		opts.FirstID = 1
	}
	run, err := newLocalRun(st, project, opts, o)
	if err != nil {
		return ImportSummary{}, err
	}
	proc := run.processor()
	switch format {
	case "json", "text":
		err = inputFile(proc, path, map[string]string{"json": ".json", "text": ".txt"}[format])
	case "json-dir", "text-dir":
		err = inputDir(proc, path, format)
	case "image-dir", "audio-dir":
		exts := imageExtensions
		if format == "audio-dir" {
			exts = audioExtensions
		}
		err = mediaDir(run, path, exts)
	default:
		return ImportSummary{}, fmt.Errorf("unknown input format %q: use %s", format, strings.Join(InputFormats, ", "))
	}
	res, err := run.finish(err)
	if err != nil {
		return ImportSummary{}, err
	}
	formats := proc.Formats()
	if len(formats) == 0 {
		formats = map[string]int{format: res.Stored + res.Skipped}
	}
	return ImportSummary{ImportResult: res, Formats: formats, Duration: time.Since(start)}, nil
}

func inputFile(proc *importer.Processor, path, ext string) error {
	f, err := os.Open(path)
	if err != nil {
		return &ImportError{Messages: []string{fmt.Sprintf("cannot read the input: %v", err)}}
	}
	defer f.Close()
	return proc.FileAs(path, ext, f)
}

// inputDir reads the files of a folder (not below it) in name order:
// .json files for json-dir, every file as text for text-dir.
func inputDir(proc *importer.Processor, dir, format string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return &ImportError{Messages: []string{fmt.Sprintf("cannot read the input folder: %v", err)}}
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
			continue
		}
		ext := ".txt"
		if format == "json-dir" {
			if importer.Ext(name) != ".json" {
				continue
			}
			ext = ".json"
		}
		if err := inputFile(proc, filepath.Join(dir, name), ext); err != nil {
			return err
		}
	}
	return nil
}

// mediaDir makes one task per media file below dir.
func mediaDir(run *importRun, dir string, exts []string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return &ImportError{Messages: []string{fmt.Sprintf("cannot read the input folder: %v", err)}}
	}
	var files []string
	err = filepath.WalkDir(abs, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != abs {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && contains(exts, importer.Ext(d.Name())) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return &ImportError{Messages: []string{fmt.Sprintf("cannot read the input folder: %v", err)}}
	}
	sort.Strings(files)
	var item []byte
	for _, p := range files {
		u := "/data/" + url.PathEscape(filepath.Base(p)) + "?d=" + url.QueryEscape(filepath.Dir(p))
		item = append(item[:0], `{"data":{"`+importer.UndefinedKey+`":`...)
		item = importer.AppendJSONString(item, u)
		item = append(item, "}}"...)
		run.taskPath = safeTaskPath(p)
		if err := run.Item(item); err != nil {
			return err
		}
	}
	run.taskPath = ""
	if len(files) == 0 {
		return &ImportError{Messages: []string{fmt.Sprintf("no %s file in %s", strings.Join(exts, ", "), abs)}}
	}
	return nil
}

// safeTaskPath makes a path safe for the stored task_path string: valid
// UTF-8 without control characters.
func safeTaskPath(p string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(p, "\uFFFD"))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IsImportError reports whether err is a refused import, and its messages.
func IsImportError(err error) ([]string, bool) {
	var ie *ImportError
	if errors.As(err, &ie) {
		return ie.Messages, true
	}
	return nil, false
}
