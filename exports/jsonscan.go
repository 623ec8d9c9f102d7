package exports

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A small JSON scanner for the hot paths of the exports: splitting stored
// objects into ordered members and re-writing stored JSON in Python's
// layout without building a tree or going through encoding/json's token
// API. It checks structure as it goes and reports malformed input as an
// error; it never panics.

// commonKeys interns the keys of stored tasks and results so that decoding
// them does not allocate.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"id", "data", "meta", "predictions", "completions", "task_path", "result", "created_at", "lead_time",
		"was_cancelled", "skipped", "from_name", "to_name", "type", "value", "original_width", "original_height",
		"image_rotation", "start", "end", "text", "labels", "choices", "x", "y", "width", "height", "rotation",
		"rectanglelabels", "polygonlabels", "points", "brushlabels", "rle", "format", "image", "audio",
	} {
		m[k] = k
	}
	return m
}()

// errSyntax is malformed JSON.
var errSyntax = errors.New("malformed JSON")

// scanner reads JSON from b at position i.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, s.i)
}

// peek returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// expect consumes c after optional whitespace.
func (s *scanner) expect(c byte) error {
	s.ws()
	if s.peek() != c {
		return s.fail(fmt.Sprintf("expected %q", c))
	}
	s.i++
	return nil
}

// str reads a string token and returns its decoded value. Invalid UTF-8
// and lone surrogates become U+FFFD.
func (s *scanner) str() (string, error) {
	if s.peek() != '"' {
		return "", s.fail("expected string")
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := s.b[start:s.i]
			s.i++
			if k, ok := commonKeys[string(v)]; ok {
				return k, nil // no allocation for the usual keys
			}
			return string(v), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		s.i++
	}
	// slow path: escapes
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), nil
		case c < 0x20:
			return "", s.fail("control character in string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		s.i++
		if s.i >= len(s.b) {
			break
		}
		e := s.b[s.i]
		s.i++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				// a high surrogate followed by a low one is one character;
				// anything else is U+FFFD
				combined := utf8.RuneError
				if r < 0xDC00 && s.i+6 <= len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					save := s.i
					s.i += 2
					if r2, ok := s.hex4(); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
						combined = utf16.DecodeRune(r, r2)
					} else {
						s.i = save
					}
				}
				r = combined
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", s.fail("bad escape")
		}
	}
	return "", s.fail("unterminated string")
}

// stringToken consumes a string token without decoding it and returns it
// with its quotes.
func (s *scanner) stringToken() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.fail("expected string")
	}
	start := s.i
	s.i++
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start:s.i], nil
		case c == '\\':
			s.i += 2
		case c < 0x20:
			return nil, s.fail("control character in string")
		default:
			s.i++
		}
	}
	return nil, s.fail("unterminated string")
}

// appendStringToken appends a string token in the Python style, copying it
// when it is already in that form and decoding it otherwise.
func appendStringToken(dst, tok []byte, ascii bool) ([]byte, error) {
	if plainString(tok, ascii) {
		return append(dst, tok...), nil
	}
	v, err := (&scanner{b: tok}).str()
	if err != nil {
		return dst, err
	}
	return appendPyString(dst, v, ascii), nil
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(s.b[s.i:s.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	s.i += 4
	return rune(v), true
}

// number consumes a number token, following the JSON grammar
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), and returns its text.
func (s *scanner) number() ([]byte, error) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		digits()
	default:
		return nil, s.fail("bad number")
	}
	if s.peek() == '.' {
		s.i++
		if digits() == 0 {
			return nil, s.fail("bad number")
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if digits() == 0 {
			return nil, s.fail("bad number")
		}
	}
	return s.b[start:s.i], nil
}

// literal consumes true, false or null.
func (s *scanner) literal() ([]byte, error) {
	for _, lit := range []string{"true", "false", "null"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return s.b[s.i-len(lit) : s.i], nil
		}
	}
	return nil, s.fail("unexpected character")
}

// skip consumes one value of any kind.
func (s *scanner) skip(depth int) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	s.ws()
	switch c := s.peek(); {
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		s.i++
		s.ws()
		if s.peek() == closing {
			s.i++
			return nil
		}
		for {
			s.ws()
			if c == '{' {
				if _, err := s.stringToken(); err != nil {
					return err
				}
				if err := s.expect(':'); err != nil {
					return err
				}
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			s.ws()
			switch s.peek() {
			case ',':
				s.i++
			case closing:
				s.i++
				return nil
			default:
				return s.fail("expected , or closing bracket")
			}
		}
	case c == '"':
		_, err := s.stringToken()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := s.number()
		return err
	default:
		_, err := s.literal()
		return err
	}
}

// rewrite consumes one value and appends it to dst in the Python style st,
// as if it started at nesting depth.
func (s *scanner) rewrite(dst []byte, st pyStyle, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return dst, errors.New("JSON nested too deeply")
	}
	s.ws()
	switch c := s.peek(); {
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		s.i++
		s.ws()
		if s.peek() == closing {
			s.i++
			return append(dst, c, closing), nil
		}
		dst = append(dst, c)
		for n := 0; ; n++ {
			dst = appendSep(dst, n, st, depth+1)
			s.ws()
			if c == '{' {
				key, err := s.stringToken()
				if err != nil {
					return dst, err
				}
				if dst, err = appendStringToken(dst, key, st.ascii); err != nil {
					return dst, err
				}
				dst = append(dst, ": "...)
				if err := s.expect(':'); err != nil {
					return dst, err
				}
			}
			var err error
			if dst, err = s.rewrite(dst, st, depth+1); err != nil {
				return dst, err
			}
			s.ws()
			switch s.peek() {
			case ',':
				s.i++
			case closing:
				s.i++
				dst = appendClose(dst, st, depth)
				return append(dst, closing), nil
			default:
				return dst, s.fail("expected , or closing bracket")
			}
		}
	case c == '"':
		tok, err := s.stringToken()
		if err != nil {
			return dst, err
		}
		return appendStringToken(dst, tok, st.ascii)
	case c == '-' || (c >= '0' && c <= '9'):
		t, err := s.number()
		return append(dst, t...), err
	default:
		t, err := s.literal()
		return append(dst, t...), err
	}
}

// plainString reports whether a quoted JSON string token is already in
// the form Python writes: no escapes, and valid UTF-8 (ascii false) or only
// printable ASCII (ascii true).
func plainString(tok []byte, ascii bool) bool {
	if len(tok) < 2 {
		return false
	}
	inner := tok[1 : len(tok)-1]
	for _, c := range inner {
		if c == '\\' || c < 0x20 || (ascii && c > '~') {
			return false
		}
	}
	return ascii || utf8.Valid(inner)
}

// end checks that only whitespace follows.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.fail("trailing data")
	}
	return nil
}

// appendPyRaw re-writes raw JSON in the Python style.
func appendPyRaw(dst []byte, raw []byte, st pyStyle, depth int) ([]byte, error) {
	s := &scanner{b: raw}
	dst, err := s.rewrite(dst, st, depth)
	if err != nil {
		return dst, err
	}
	return dst, s.end()
}

// objectMembers splits a raw JSON object into its members, in order, with
// raw values.
func objectMembers(raw []byte) (jsonObject, error) {
	s := &scanner{b: raw}
	s.ws()
	if s.peek() != '{' {
		return nil, errNotObject
	}
	s.i++
	out := make(jsonObject, 0, 8)
	s.ws()
	if s.peek() == '}' {
		s.i++
		return out, s.end()
	}
	for {
		s.ws()
		key, err := s.str()
		if err != nil {
			return nil, err
		}
		if err := s.expect(':'); err != nil {
			return nil, err
		}
		s.ws()
		start := s.i
		if err := s.skip(0); err != nil {
			return nil, err
		}
		out = append(out, jsonMember{Key: key, Value: json.RawMessage(raw[start:s.i])})
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return out, s.end()
		default:
			return nil, s.fail("expected , or }")
		}
	}
}

// arrayElements splits a raw JSON array into its raw elements.
func arrayElements(raw []byte) ([]json.RawMessage, error) {
	s := &scanner{b: raw}
	s.ws()
	if s.peek() != '[' {
		return nil, errors.New("not a JSON array")
	}
	s.i++
	var out []json.RawMessage
	s.ws()
	if s.peek() == ']' {
		s.i++
		return out, s.end()
	}
	for {
		s.ws()
		start := s.i
		if err := s.skip(0); err != nil {
			return nil, err
		}
		out = append(out, json.RawMessage(raw[start:s.i]))
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return out, s.end()
		default:
			return nil, s.fail("expected , or ]")
		}
	}
}

// rawString decodes a raw JSON string value; ok is false for any other
// value.
func rawString(raw []byte) (string, bool) {
	s := &scanner{b: raw}
	s.ws()
	if s.peek() != '"' {
		return "", false
	}
	v, err := s.str()
	if err != nil || s.end() != nil {
		return "", false
	}
	return v, true
}
