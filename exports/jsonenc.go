package exports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The converter writes its JSON with Python's json module. The helpers here
// keep object key order (Go maps would lose it) and reproduce Python's
// layout: indent=2 with ", "/": " inside lines, or the compact default
// separators ", " and ": " used in CSV cells, with or without ensure_ascii.

// jsonObject is a JSON object with its member order.
type jsonObject []jsonMember

// jsonMember is one key of a jsonObject. Value is one of jsonObject, []any,
// string, json.Number, json.RawMessage (re-written in the target style),
// bool, nil, int or int64, or float64.
type jsonMember struct {
	Key   string
	Value any
}

// get returns the value of key and whether it is present.
func (o jsonObject) get(key string) (any, bool) {
	for _, m := range o {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// set replaces the value of key in place, or appends it: Python's
// dict[key] = value.
func (o jsonObject) set(key string, v any) jsonObject {
	for i := range o {
		if o[i].Key == key {
			o[i].Value = v
			return o
		}
	}
	return append(o, jsonMember{Key: key, Value: v})
}

// without returns a copy of o without key.
func (o jsonObject) without(key string) jsonObject {
	out := make(jsonObject, 0, len(o))
	for _, m := range o {
		if m.Key != key {
			out = append(out, m)
		}
	}
	return out
}

// errNotObject is returned for JSON that is not an object where one is
// required.
var errNotObject = errors.New("not a JSON object")

// maxJSONDepth bounds the nesting the scanner and re-encoder follow.
const maxJSONDepth = 1000

// pyStyle is a Python json.dumps layout.
type pyStyle struct {
	// indent is the indent width; 0 is the one-line default layout.
	indent int
	// ascii escapes every non-ASCII character (ensure_ascii=True).
	ascii bool
}

var (
	// styleIndentUTF8 is json.dump(indent=2, ensure_ascii=False).
	styleIndentUTF8 = pyStyle{indent: 2}
	// styleIndentASCII is json.dump(indent=2).
	styleIndentASCII = pyStyle{indent: 2, ascii: true}
	// styleCompactASCII is json.dumps(v).
	styleCompactASCII = pyStyle{ascii: true}
	// styleCompactUTF8 is json.dumps(v, ensure_ascii=False).
	styleCompactUTF8 = pyStyle{}
)

// appendPy appends v in the style, as if it started at nesting depth.
func appendPy(b []byte, v any, st pyStyle, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return b, errors.New("JSON nested too deeply")
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendPyString(b, x, st.ascii), nil
	case json.Number:
		return append(b, x...), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		return appendPyFloat(b, x), nil
	case json.RawMessage:
		return appendPyRaw(b, x, st, depth)
	case []any:
		if len(x) == 0 {
			return append(b, "[]"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			b = appendSep(b, i, st, depth+1)
			var err error
			if b, err = appendPy(b, e, st, depth+1); err != nil {
				return b, err
			}
		}
		b = appendClose(b, st, depth)
		return append(b, ']'), nil
	case jsonObject:
		if len(x) == 0 {
			return append(b, "{}"...), nil
		}
		b = append(b, '{')
		for i, m := range x {
			b = appendSep(b, i, st, depth+1)
			b = appendPyString(b, m.Key, st.ascii)
			b = append(b, ": "...)
			var err error
			if b, err = appendPy(b, m.Value, st, depth+1); err != nil {
				return b, err
			}
		}
		b = appendClose(b, st, depth)
		return append(b, '}'), nil
	}
	return b, fmt.Errorf("cannot encode %T as JSON", v)
}

// appendSep starts the i-th element of a list or object whose elements sit
// at depth.
func appendSep(b []byte, i int, st pyStyle, depth int) []byte {
	if st.indent == 0 {
		if i > 0 {
			b = append(b, ", "...)
		}
		return b
	}
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, '\n')
	return appendIndent(b, st, depth)
}

// appendClose puts the closing bracket of a container at depth on its line.
func appendClose(b []byte, st pyStyle, depth int) []byte {
	if st.indent == 0 {
		return b
	}
	b = append(b, '\n')
	return appendIndent(b, st, depth)
}

func appendIndent(b []byte, st pyStyle, depth int) []byte {
	for i := 0; i < st.indent*depth; i++ {
		b = append(b, ' ')
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendPyString appends s as a JSON string the way Python writes it:
// quotes, backslashes and control characters escaped (short forms for \n,
// \r, \t, \b, \f); with ascii, also every character outside space..'~' as
// \uXXXX (surrogate pairs above U+FFFF).
func appendPyString(b []byte, s string, ascii bool) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r < 0x20 || (ascii && r > '~'):
			if r > 0xFFFF {
				r1, r2 := utf16.EncodeRune(r)
				b = appendU4(b, r1)
				b = appendU4(b, r2)
			} else {
				b = appendU4(b, r)
			}
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

func appendU4(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
}

// appendPyFloat appends f as Python's repr does: the shortest digits that
// read back as f, always with a fraction or exponent ("20.0", "1e+16",
// "1.5e-05"). NaN and infinities, which JSON cannot hold, become null.
func appendPyFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp := 0
	if i := bytes.IndexByte([]byte(e), 'e'); i >= 0 {
		exp, _ = strconv.Atoi(e[i+1:])
	}
	if exp < -4 || exp >= 16 {
		return append(b, e...)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	b = append(b, s...)
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return b
		}
	}
	return append(b, ".0"...)
}

// numberText returns the JSON text of a raw number value, or "" when raw is
// not a number.
func numberText(raw json.RawMessage) (json.Number, float64, bool) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || (t[0] != '-' && (t[0] < '0' || t[0] > '9')) {
		return "", 0, false
	}
	f, err := strconv.ParseFloat(string(t), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", 0, false
	}
	return json.Number(t), f, true
}
