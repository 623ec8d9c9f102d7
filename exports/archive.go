package exports

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// archive wraps the zip being written with the export time, the warnings
// collected so far and the names already used, so that no entry is written
// twice.
type archive struct {
	zw       *zip.Writer
	modified time.Time
	warn     warnings
	names    map[string]bool
}

// newArchive starts writing a format's files into zw.
func newArchive(zw *zip.Writer, opts Options) *archive {
	return &archive{zw: zw, modified: opts.now(), names: map[string]bool{}}
}

// dir adds a directory entry ("images/").
func (a *archive) dir(name string) error {
	if !strings.HasSuffix(name, "/") {
		name += "/"
	}
	if a.names[name] {
		return nil
	}
	a.names[name] = true
	_, err := a.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: a.modified})
	if err != nil {
		return fmt.Errorf("add directory %s: %w", name, err)
	}
	return nil
}

// has reports whether an entry of that name was written.
func (a *archive) has(name string) bool { return a.names[name] }

// create starts a file entry; the returned writer is valid until the next
// entry is created. Already-compressed content (PNG) is stored as is.
func (a *archive) create(name string, compress bool) (io.Writer, error) {
	if a.names[name] {
		return nil, fmt.Errorf("add %s: duplicate entry", name)
	}
	a.names[name] = true
	method := zip.Store
	if compress {
		method = zip.Deflate
	}
	w, err := a.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: a.modified})
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", name, err)
	}
	return w, nil
}

// file writes a whole small file.
func (a *archive) file(name string, content []byte, compress bool) error {
	w, err := a.create(name, compress)
	if err != nil {
		return err
	}
	if _, err := w.Write(content); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// stream starts a compressed file entry behind a buffered writer; call
// flush on the result before the next entry.
func (a *archive) stream(name string) (*bufio.Writer, error) {
	w, err := a.create(name, true)
	if err != nil {
		return nil, err
	}
	return bufio.NewWriterSize(w, 64<<10), nil
}

// finish writes warnings.txt when something was reported.
func (a *archive) finish() error {
	if a.warn.empty() {
		return nil
	}
	return a.file(warningsFile, a.warn.text(), true)
}

// warningsFile is the zip entry listing what an export skipped.
const warningsFile = "warnings.txt"

// maxWarnings bounds the warnings kept in memory; later ones are counted.
const maxWarnings = 10000

// warnings collects one line per problem that made an export skip or
// change something.
type warnings struct {
	lines   []string
	dropped int
}

// add records a problem of one task.
func (w *warnings) add(taskID int64, format string, args ...any) {
	if len(w.lines) >= maxWarnings {
		w.dropped++
		return
	}
	w.lines = append(w.lines, "task "+strconv.FormatInt(taskID, 10)+": "+fmt.Sprintf(format, args...))
}

func (w *warnings) empty() bool { return len(w.lines) == 0 && w.dropped == 0 }

// text renders the warnings, one per line.
func (w *warnings) text() []byte {
	var b strings.Builder
	for _, l := range w.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if w.dropped > 0 {
		fmt.Fprintf(&b, "... and %d more warnings\n", w.dropped)
	}
	return []byte(b.String())
}
