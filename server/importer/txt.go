package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// LineError reports a problem with one line (or row) of a text input.
type LineError struct {
	// Line is the 1-based line number.
	Line int64
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// TXTLines splits r into lines the way Python's bytes.splitlines does: a
// line ends at "\n", "\r\n" or "\r", and a final line ending does not start
// another line ("a\nb\n" is two lines, "a\n\nb" three). Every line, empty
// ones included, is given to fn without its ending; the slice is valid only
// during the call. A leading UTF-8 byte-order mark is skipped.
//
// Errors: *LineError for a line that is not UTF-8, *TooLargeError for a
// line longer than maxLine bytes, *CallbackError wrapping what fn returned.
// An empty input gives no line and no error.
func TXTLines(r io.Reader, maxLine int64, fn func(line []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	if err := skipBOM(br); err != nil {
		return err
	}
	var line []byte
	var n int64 // lines emitted
	emit := func(b []byte) error {
		n++
		if !utf8.Valid(b) {
			return &LineError{Line: n, Msg: fmt.Sprintf("the text is not valid UTF-8 (byte %d of the line)", firstInvalidUTF8(b)+1)}
		}
		if err := fn(b); err != nil {
			return &CallbackError{err}
		}
		return nil
	}
	for {
		data, err := br.Peek(1)
		if len(data) == 0 {
			if err != nil && err != io.EOF {
				return err
			}
			if len(line) > 0 {
				return emit(line)
			}
			return nil
		}
		data, _ = br.Peek(br.Buffered())
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			if maxLine > 0 && int64(len(line)+len(data)) > maxLine {
				return &TooLargeError{What: fmt.Sprintf("line %d", n+1), Limit: maxLine}
			}
			line = append(line, data...)
			br.Discard(len(data)) //nolint:errcheck // the bytes are buffered
			continue
		}
		if maxLine > 0 && int64(len(line)+i) > maxLine {
			return &TooLargeError{What: fmt.Sprintf("line %d", n+1), Limit: maxLine}
		}
		var cur []byte
		if len(line) == 0 {
			cur = data[:i]
		} else {
			line = append(line, data[:i]...)
			cur = line
		}
		cr := data[i] == '\r'
		if err := emit(cur); err != nil {
			return err
		}
		line = line[:0]
		br.Discard(i + 1) //nolint:errcheck
		if cr {
			if next, _ := br.Peek(1); len(next) == 1 && next[0] == '\n' {
				br.Discard(1) //nolint:errcheck
			}
		}
	}
}
