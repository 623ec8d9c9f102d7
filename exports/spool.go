package exports

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// spool is a temporary file that a format writes pieces into during its one
// pass over the tasks and reads back when it assembles its output, so that
// output whose beginning depends on its end (COCO's categories, the CSV
// header) needs neither the whole project in memory nor a second pass.
type spool struct {
	f *os.File
	w *bufio.Writer
	n int64
}

// newSpool creates an empty spool in the system's temporary directory.
func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "labelstudio-export-*")
	if err != nil {
		return nil, fmt.Errorf("create temporary file: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Write appends p.
func (s *spool) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("write temporary file: %w", err)
	}
	return n, nil
}

// size is the number of bytes written so far.
func (s *spool) size() int64 { return s.n }

// reader flushes what was written and returns a reader from the start.
func (s *spool) reader() (*bufio.Reader, error) {
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("write temporary file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind temporary file: %w", err)
	}
	return bufio.NewReaderSize(s.f, 64<<10), nil
}

// copyTo writes the spool's content to w.
func (s *spool) copyTo(w io.Writer) error {
	r, err := s.reader()
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		return fmt.Errorf("copy temporary file: %w", err)
	}
	return nil
}

// remove closes and deletes the file; it is safe to call more than once.
func (s *spool) remove() {
	if s == nil || s.f == nil {
		return
	}
	name := s.f.Name()
	_ = s.f.Close()
	_ = os.Remove(name)
	s.f = nil
}

// writeRow appends a row of (column, cell) pairs.
func (s *spool) writeRow(cols []int, cells []string) error {
	var tmp [binary.MaxVarintLen64]byte
	put := func(v uint64) error {
		_, err := s.Write(tmp[:binary.PutUvarint(tmp[:], v)])
		return err
	}
	if err := put(uint64(len(cols))); err != nil {
		return err
	}
	for i, c := range cols {
		if err := put(uint64(c)); err != nil {
			return err
		}
		if err := put(uint64(len(cells[i]))); err != nil {
			return err
		}
		if _, err := s.Write([]byte(cells[i])); err != nil {
			return err
		}
	}
	return nil
}

// errBadSpool is a spool row that does not decode; only a bug can cause it.
var errBadSpool = errors.New("corrupt temporary row file")

// readRow reads the next row written by writeRow into row (indexed by
// column, length ncols), returning io.EOF after the last.
func readRow(r *bufio.Reader, row []string) error {
	for i := range row {
		row[i] = ""
	}
	n, err := binary.ReadUvarint(r)
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errBadSpool, err)
	}
	for ; n > 0; n-- {
		col, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("%w: %w", errBadSpool, err)
		}
		l, err := binary.ReadUvarint(r)
		if err != nil || l > 1<<40 {
			return fmt.Errorf("%w: cell length", errBadSpool)
		}
		buf := make([]byte, l)
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("%w: %w", errBadSpool, err)
		}
		if col >= uint64(len(row)) {
			return fmt.Errorf("%w: column %d", errBadSpool, col)
		}
		row[col] = string(buf)
	}
	return nil
}
