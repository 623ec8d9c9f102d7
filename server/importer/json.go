package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// ErrEmpty reports an input that holds nothing (or only white space).
var ErrEmpty = errors.New("the file is empty")

// ErrNull reports a JSON input whose top-level value is null.
var ErrNull = errors.New("null is not allowed")

// NotListError reports a JSON input whose top-level value is neither an
// array nor an object.
type NotListError struct {
	// Kind is the JSON type found: "string", "number" or "boolean".
	Kind string
}

func (e *NotListError) Error() string {
	return fmt.Sprintf("a JSON list of tasks or one task object is expected, not a %s", e.Kind)
}

// SyntaxError reports JSON that does not parse.
type SyntaxError struct {
	// Offset is the byte offset in the input where the problem was seen.
	Offset int64
	// Item is the index of the list item at fault, -1 when not in a list.
	Item int
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Item >= 0 {
		return fmt.Sprintf("item %d (near byte %d): %s", e.Item, e.Offset, e.Msg)
	}
	return fmt.Sprintf("near byte %d: %s", e.Offset, e.Msg)
}

// TooLargeError reports one item (a JSON value, a CSV row, a line, an HTML
// file) larger than the limit.
type TooLargeError struct {
	What  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than the limit of %s", e.What, HumanBytes(e.Limit))
}

// CallbackError wraps an error returned by a callback, so that callers can
// tell it from a parse error and pass it on unchanged.
type CallbackError struct{ Err error }

func (e *CallbackError) Error() string { return e.Err.Error() }
func (e *CallbackError) Unwrap() error { return e.Err }

// jsonReadSize is the buffer of the JSON scanner.
const jsonReadSize = 256 << 10

// jsonReaders keeps the scanners' buffers for the next import: a request
// of a thousand tasks would otherwise allocate (and clear) more buffer
// than body.
var jsonReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, jsonReadSize) }}

// JSONItems reads one JSON text from r. An array gives each of its elements
// to fn, in order; an object is given to fn as the only item. The item slice
// is valid only during the call. A leading UTF-8 byte-order mark is skipped.
//
// Errors: ErrEmpty for an input of white space only, ErrNull for a
// top-level null, *NotListError for another top-level type, *SyntaxError
// for text that is not JSON or not UTF-8, *TooLargeError for an item longer
// than maxItem bytes, and *CallbackError wrapping what fn returned. The
// input is never held whole in memory: at most one item is.
func JSONItems(r io.Reader, maxItem int64, fn func(item []byte) error) error {
	br := jsonReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		jsonReaders.Put(br)
	}()
	s := &jsonScanner{br: br, max: maxItem}
	if err := skipBOM(s.br); err != nil {
		return err
	}
	s.off = 0
	c, err := s.peekNonSpace()
	if err == io.EOF {
		return ErrEmpty
	}
	if err != nil {
		return err
	}
	switch c {
	case '[':
		if err := s.array(fn); err != nil {
			return err
		}
	case '{':
		v, err := s.value(-1)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return &CallbackError{err}
		}
	default:
		v, err := s.value(-1)
		if err != nil {
			return err
		}
		if err := s.end(); err != nil {
			return err
		}
		switch v[0] {
		case 'n':
			return ErrNull
		case '"':
			return &NotListError{Kind: "string"}
		case 't', 'f':
			return &NotListError{Kind: "boolean"}
		}
		return &NotListError{Kind: "number"}
	}
	return s.end()
}

type jsonScanner struct {
	br  *bufio.Reader
	off int64 // bytes consumed so far
	max int64
	buf []byte
}

func (s *jsonScanner) syntax(item int, format string, args ...any) error {
	return &SyntaxError{Offset: s.off, Item: item, Msg: fmt.Sprintf(format, args...)}
}

// peekNonSpace skips white space and returns the next byte without
// consuming it; io.EOF at the end of the input.
func (s *jsonScanner) peekNonSpace() (byte, error) {
	for {
		b, err := s.br.Peek(1)
		if len(b) == 0 {
			if err == nil {
				err = io.EOF
			}
			return 0, err
		}
		data, _ := s.br.Peek(s.br.Buffered())
		i := 0
		for i < len(data) && isSpace(data[i]) {
			i++
		}
		if i < len(data) {
			if _, err := s.br.Discard(i); err != nil {
				return 0, err
			}
			s.off += int64(i)
			return data[i], nil
		}
		n, _ := s.br.Discard(len(data))
		s.off += int64(n)
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// end checks that only white space follows the top-level value.
func (s *jsonScanner) end() error {
	_, err := s.peekNonSpace()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	return s.syntax(-1, "unexpected data after the top-level JSON value")
}

func (s *jsonScanner) array(fn func([]byte) error) error {
	s.br.Discard(1) //nolint:errcheck // the byte was peeked
	s.off++
	c, err := s.peekNonSpace()
	if err != nil {
		return s.eofErr(err, 0)
	}
	if c == ']' {
		s.br.Discard(1) //nolint:errcheck
		s.off++
		return nil
	}
	for i := 0; ; i++ {
		v, err := s.value(i)
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return &CallbackError{err}
		}
		c, err := s.peekNonSpace()
		if err != nil {
			return s.eofErr(err, i)
		}
		s.br.Discard(1) //nolint:errcheck
		s.off++
		switch c {
		case ']':
			return nil
		case ',':
			c, err := s.peekNonSpace()
			if err != nil {
				return s.eofErr(err, i+1)
			}
			if c == ']' {
				return s.syntax(i+1, "a value is expected after ',' (trailing commas are not JSON)")
			}
		default:
			return s.syntax(i, "',' or ']' is expected after an item, not %q", c)
		}
	}
}

func (s *jsonScanner) eofErr(err error, item int) error {
	if err == io.EOF {
		return s.syntax(item, "unexpected end of the input: the list is not closed")
	}
	return err
}

// value reads one complete JSON value (the next non-space byte starts it)
// and checks it.
func (s *jsonScanner) value(item int) ([]byte, error) {
	start := s.off
	s.buf = s.buf[:0]
	first, err := s.br.Peek(1)
	if len(first) == 0 {
		return nil, s.eofErr(err, item)
	}
	switch c := first[0]; c {
	case '{', '[':
		err = s.scanComposite()
	case '"':
		err = s.scanString()
	default:
		if c == ',' || c == ']' || c == '}' || c == ':' {
			return nil, s.syntax(item, "a value is expected, not %q", c)
		}
		err = s.scanScalar()
	}
	if err != nil {
		var tl *TooLargeError
		if errors.As(err, &tl) {
			if item >= 0 {
				tl.What = fmt.Sprintf("item %d", item)
			} else {
				tl.What = "the JSON value"
			}
			return nil, tl
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if item >= 0 {
				return nil, &SyntaxError{Offset: s.off, Item: item, Msg: "unexpected end of the input inside the item"}
			}
			return nil, &SyntaxError{Offset: s.off, Item: -1, Msg: "unexpected end of the input inside the value"}
		}
		return nil, err
	}
	// goccy's validator is some eight times as fast as encoding/json's;
	// FuzzJSONStream holds it to encoding/json's verdicts.
	if !gojson.Valid(s.buf) {
		var v any
		msg := "invalid JSON"
		if err := json.Unmarshal(s.buf, &v); err != nil {
			msg = err.Error()
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return nil, &SyntaxError{Offset: start + se.Offset, Item: item, Msg: msg}
			}
		}
		return nil, &SyntaxError{Offset: start, Item: item, Msg: msg}
	}
	if !utf8.Valid(s.buf) {
		bad := start + int64(firstInvalidUTF8(s.buf))
		return nil, &SyntaxError{Offset: bad, Item: item, Msg: "the text is not valid UTF-8"}
	}
	return s.buf, nil
}

// firstInvalidUTF8 returns the offset of the first byte that is not part of
// valid UTF-8.
func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// take appends n buffered bytes to the item buffer and consumes them.
func (s *jsonScanner) take(data []byte, n int) error {
	if s.max > 0 && int64(len(s.buf)+n) > s.max {
		return &TooLargeError{Limit: s.max}
	}
	s.buf = append(s.buf, data[:n]...)
	if _, err := s.br.Discard(n); err != nil {
		return err
	}
	s.off += int64(n)
	return nil
}

// fill returns the buffered bytes, reading more when none are buffered.
func (s *jsonScanner) fill() ([]byte, error) {
	if s.br.Buffered() == 0 {
		if _, err := s.br.Peek(1); err != nil {
			return nil, err
		}
	}
	return s.br.Peek(s.br.Buffered())
}

// scanComposite reads an object or an array up to its matching closing
// bracket, counting brackets outside strings. Mismatched brackets leave a
// value that the validity check refuses.
func (s *jsonScanner) scanComposite() error {
	depth := 0
	inString, escaped := false, false
	for {
		data, err := s.fill()
		if err != nil {
			return err
		}
		for i := 0; i < len(data); i++ {
			c := data[i]
			if inString {
				if escaped {
					escaped = false
					continue
				}
				// Jump to the next quote or backslash.
				j := indexQuoteOrBackslash(data[i:])
				if j < 0 {
					i = len(data) - 1
					continue
				}
				i += j
				if data[i] == '\\' {
					escaped = true
				} else {
					inString = false
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return s.take(data, i+1)
				}
			}
		}
		if err := s.take(data, len(data)); err != nil {
			return err
		}
	}
}

// indexQuoteOrBackslash returns the index of the first '"' or '\\' in b, or
// -1.
func indexQuoteOrBackslash(b []byte) int {
	q := bytes.IndexByte(b, '"')
	if q < 0 {
		q = len(b)
	}
	if e := bytes.IndexByte(b[:q], '\\'); e >= 0 {
		return e
	}
	if q == len(b) {
		return -1
	}
	return q
}

// scanString reads a string value up to its closing quote.
func (s *jsonScanner) scanString() error {
	escaped := false
	opened := false
	for {
		data, err := s.fill()
		if err != nil {
			return err
		}
		for i := 0; i < len(data); i++ {
			c := data[i]
			if !opened {
				opened = true
				continue
			}
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				return s.take(data, i+1)
			}
		}
		if err := s.take(data, len(data)); err != nil {
			return err
		}
	}
}

// scanScalar reads a number or a literal up to the next delimiter.
func (s *jsonScanner) scanScalar() error {
	for {
		data, err := s.fill()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		for i := 0; i < len(data); i++ {
			switch data[i] {
			case ' ', '\t', '\n', '\r', ',', ']', '}', ':', '[', '{', '"':
				if i == 0 && len(s.buf) == 0 {
					return s.take(data, 1)
				}
				return s.take(data, i)
			}
		}
		if err := s.take(data, len(data)); err != nil {
			return err
		}
	}
}

// skipBOM consumes a leading UTF-8 byte-order mark.
func skipBOM(br *bufio.Reader) error {
	b, err := br.Peek(3)
	if err != nil && err != io.EOF {
		return err
	}
	if len(b) == 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		_, err := br.Discard(3)
		return err
	}
	return nil
}

// HumanBytes writes a byte count the way limits are told to users.
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
