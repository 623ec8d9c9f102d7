package labelconfig

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// 0.8.1 validates the config by converting it to JSON with the BadgerFish
// convention, which type-converts every attribute value and text with
// Python's bool/int/float rules, and prints problems with Python reprs. This
// file reproduces exactly as much of Python as those decisions and messages
// need.

// valueKind is the JSON type an attribute value or text converts to.
type valueKind int

const (
	kindString valueKind = iota
	kindNull
	kindBool
	kindInt
	kindFloat
)

// pyConvert converts s the way 0.8.1's BadgerFish conversion does and
// returns the resulting kind and its Python repr: "true"/"false" (any case)
// become booleans, integers become ints, finite floats become floats, the
// empty string becomes None, anything else stays a string.
func pyConvert(s string) (valueKind, string) {
	if plainString(s) {
		return kindString, pyStrRepr(s)
	}
	if s == "" {
		return kindNull, "None"
	}
	if len(s) == 4 && strings.EqualFold(s, "true") {
		return kindBool, "True"
	}
	if len(s) == 5 && strings.EqualFold(s, "false") {
		return kindBool, "False"
	}
	if repr, ok := pyInt(s); ok {
		return kindInt, repr
	}
	if repr, ok := pyFloat(s); ok {
		return kindFloat, repr
	}
	return kindString, pyStrRepr(s)
}

// plainString is a fast path of pyConvert: it reports whether s certainly
// stays a string, because its first byte can start neither a number (digit,
// sign, dot, white space or a non-ASCII digit/space) nor "true"/"false".
func plainString(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if c >= utf8.RuneSelf || c <= ' ' || c >= '0' && c <= '9' {
		return false
	}
	switch c {
	case '+', '-', '.', 't', 'T', 'f', 'F':
		return false
	}
	return true
}

// isPySpace reports whether Python's str.isspace holds for r.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || r >= 0x1C && r <= 0x1F
}

// pyDigits translates Python digit groups (Unicode decimal digits, single
// underscores between digits) at the start of s into ASCII. It returns the
// digits and the number of bytes consumed.
func pyDigits(s string) (string, int) {
	var b strings.Builder
	i := 0
	lastDigit := false
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '_' {
			if !lastDigit || i+1 >= len(s) {
				break
			}
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if decimalValue(next) < 0 {
				break
			}
			i++
			lastDigit = false
			continue
		}
		d := decimalValue(r)
		if d < 0 {
			break
		}
		b.WriteByte(byte('0' + d))
		i += size
		lastDigit = true
	}
	return b.String(), i
}

// decimalValue returns the value of a Unicode decimal digit, -1 otherwise.
// Decimal digits are encoded in contiguous runs of ten starting with zero.
func decimalValue(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	if r < utf8.RuneSelf || !unicode.Is(unicode.Nd, r) {
		return -1
	}
	start := r
	for start > 0 && unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10
}

func pyStrip(s string) string {
	return strings.TrimFunc(s, isPySpace)
}

// pyInt reports whether Python's int(s) succeeds and returns the repr.
func pyInt(s string) (string, bool) {
	t := pyStrip(s)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	digits, n := pyDigits(t)
	if digits == "" || n != len(t) {
		return "", false
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", true
	}
	if neg {
		return "-" + digits, true
	}
	return digits, true
}

// pyFloat reports whether Python's float(s) succeeds with a finite value
// and returns the repr.
func pyFloat(s string) (string, bool) {
	t := pyStrip(s)
	var b strings.Builder
	if t != "" && (t[0] == '+' || t[0] == '-') {
		b.WriteByte(t[0])
		t = t[1:]
	}
	intPart, n := pyDigits(t)
	t = t[n:]
	b.WriteString(intPart)
	fracPart := ""
	if strings.HasPrefix(t, ".") {
		t = t[1:]
		fracPart, n = pyDigits(t)
		t = t[n:]
		b.WriteByte('.')
		b.WriteString(fracPart)
	}
	if intPart == "" && fracPart == "" {
		return "", false
	}
	if t != "" && (t[0] == 'e' || t[0] == 'E') {
		t = t[1:]
		b.WriteByte('e')
		if t != "" && (t[0] == '+' || t[0] == '-') {
			b.WriteByte(t[0])
			t = t[1:]
		}
		exp, n := pyDigits(t)
		if exp == "" {
			return "", false
		}
		t = t[n:]
		b.WriteString(exp)
	}
	if t != "" {
		return "", false
	}
	f, err := strconv.ParseFloat(b.String(), 64)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	if err != nil {
		// Syntax was checked above; a range error that is not an
		// overflow is an underflow to zero, which Python accepts.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return "", false
		}
	}
	return pyFloatRepr(f), true
}

// pyFloatRepr formats a finite float like Python's repr.
func pyFloatRepr(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp := 0
	if i := strings.IndexByte(e, 'e'); i >= 0 {
		exp, _ = strconv.Atoi(e[i+1:])
	}
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}

// pyStrRepr formats s like Python's repr of a str.
func pyStrRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(quote)
	const hex = "0123456789abcdef"
	for _, r := range s {
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7F:
			b.WriteString(`\x`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xF])
		case r < 0x7F || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xFF:
			b.WriteString(`\x`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xF])
		case r <= 0xFFFF:
			b.WriteString(`\u`)
			for shift := 12; shift >= 0; shift -= 4 {
				b.WriteByte(hex[(r>>shift)&0xF])
			}
		default:
			b.WriteString(`\U`)
			for shift := 28; shift >= 0; shift -= 4 {
				b.WriteByte(hex[(r>>shift)&0xF])
			}
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyListRepr formats strings like Python's repr of a list of str. Lists
// longer than limit (when limit > 0) are cut and end with "...".
func pyListRepr(items []string, limit int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		if limit > 0 && i >= limit {
			b.WriteString("...")
			break
		}
		b.WriteString(pyStrRepr(it))
	}
	b.WriteByte(']')
	return b.String()
}
