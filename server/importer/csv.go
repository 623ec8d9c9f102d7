package importer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// columnKind is the JSON type a CSV column's cells get.
type columnKind int

const (
	kindString columnKind = iota
	kindInt               // every cell an integer: JSON integers
	kindFloat             // every non-empty cell a number: JSON floats
	kindBool              // every non-empty cell True/False: JSON booleans
	kindEmpty             // no non-empty cell
)

// column gathers what the first pass learns of a column.
type column struct {
	name                    string
	nonEmpty                int64
	empty                   bool
	allInt, allNum, allBool bool
}

func (c *column) see(v string) {
	if v == "" {
		c.empty = true
		return
	}
	c.nonEmpty++
	if (c.allInt || c.allNum) && !isInteger(v) {
		c.allInt = false
		if c.allNum && !isNumber(v) {
			c.allNum = false
		}
	}
	if c.allBool && boolValue(v) < 0 {
		c.allBool = false
	}
}

func (c *column) kind() columnKind {
	switch {
	case c.nonEmpty == 0:
		return kindEmpty
	case c.allInt && !c.empty:
		return kindInt
	case c.allInt || c.allNum:
		return kindFloat
	case c.allBool:
		return kindBool
	}
	return kindString
}

// CSVRecords reads a CSV text (comma is ',' or '\t' for TSV) with a header
// row, and gives fn each data row as a JSON object {"column": value, ...}
// with the columns in header order. It reads the input twice — open is
// called once per pass — to type the columns the way pandas does, which is
// what Label Studio 0.8.1 used:
//
//   - a column whose cells are all integers gives JSON integers;
//   - a column whose non-empty cells are all numbers gives JSON floats (an
//     integer column with empty cells too: 1 becomes 1.0);
//   - a column whose non-empty cells are all True/False (any of "True",
//     "TRUE", "true", "False", "FALSE", "false") gives JSON booleans;
//   - any other column gives strings;
//   - an empty cell is always "" (pandas' NaN filled with "").
//
// Unlike pandas, texts such as "NA" or "null" stay strings, numbers are
// plain decimal ones only (no "inf", "nan" or hexadecimal), and a value too
// large for a 64-bit integer makes its column a float one. Duplicate column
// names get ".1", ".2"... suffixes and empty ones are named "Unnamed: <i>",
// as in pandas. Rows with fewer cells than the header get empty cells; rows
// with more are an error. Blank lines are skipped. A leading UTF-8
// byte-order mark is skipped.
//
// Errors: ErrEmpty when there is no header row, *csv.ParseError for bad
// quoting, *LineError for too many cells or text that is not UTF-8,
// *TooLargeError for a row longer than maxRow bytes, *CallbackError
// wrapping what fn returned.
func CSVRecords(open func() (io.Reader, error), comma rune, maxRow int64, fn func(data []byte) error) error {
	cols, rows, err := csvPass(open, comma, maxRow, nil)
	if err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	kinds := make([]columnKind, len(cols))
	for i := range cols {
		kinds[i] = cols[i].kind()
	}
	var out []byte
	_, _, err = csvPass(open, comma, maxRow, func(rec []string) error {
		out = append(out[:0], '{')
		for i := range cols {
			if i > 0 {
				out = append(out, ',')
			}
			out = AppendJSONString(out, cols[i].name)
			out = append(out, ':')
			v := ""
			if i < len(rec) {
				v = rec[i]
			}
			out = appendCell(out, v, kinds[i])
		}
		out = append(out, '}')
		return fn(out)
	})
	return err
}

// csvPass reads the whole text once. Without emit it gathers the column
// statistics; with emit it gives each row to it.
func csvPass(open func() (io.Reader, error), comma rune, maxRow int64, emit func([]string) error) ([]column, int64, error) {
	src, err := open()
	if err != nil {
		return nil, 0, err
	}
	if c, ok := src.(io.Closer); ok {
		defer c.Close()
	}
	br := bufio.NewReaderSize(src, 64<<10)
	if err := skipBOM(br); err != nil {
		return nil, 0, err
	}
	g := &guardReader{r: br, limit: maxRow}
	cr := csv.NewReader(g)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, 0, csvErr(err, g, 1)
	}
	g.mark = cr.InputOffset()
	cols := make([]column, len(header))
	seen := make(map[string]bool, len(header))
	for i, h := range header {
		if !utf8.ValidString(h) {
			return nil, 0, &LineError{Line: 1, Msg: fmt.Sprintf("the header is not valid UTF-8 text (column %d)", i+1)}
		}
		if h == "" {
			h = "Unnamed: " + strconv.Itoa(i)
		}
		name := h
		for n := 1; seen[name]; n++ {
			name = h + "." + strconv.Itoa(n)
		}
		seen[name] = true
		cols[i] = column{name: name, allInt: true, allNum: true, allBool: true}
	}
	var rows int64
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return cols, rows, nil
		}
		if err != nil {
			line := int64(0)
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = int64(pe.StartLine)
			}
			return nil, 0, csvErr(err, g, line)
		}
		line, _ := cr.FieldPos(0)
		g.mark = cr.InputOffset()
		rows++
		if len(rec) > len(cols) {
			return nil, 0, &LineError{Line: int64(line), Msg: fmt.Sprintf("expected %d fields as in the header, saw %d", len(cols), len(rec))}
		}
		for i, v := range rec {
			if !utf8.ValidString(v) {
				return nil, 0, &LineError{Line: int64(line), Msg: fmt.Sprintf("the text is not valid UTF-8 (column %d)", i+1)}
			}
		}
		if emit != nil {
			if err := emit(rec); err != nil {
				return nil, 0, &CallbackError{err}
			}
			continue
		}
		for i, v := range rec {
			cols[i].see(v)
		}
		for i := len(rec); i < len(cols); i++ {
			cols[i].empty = true
		}
	}
}

func csvErr(err error, g *guardReader, line int64) error {
	if errors.Is(err, io.EOF) {
		return ErrEmpty
	}
	if errors.Is(err, errRowTooLarge) {
		return &TooLargeError{What: fmt.Sprintf("the row at line %d", line), Limit: g.limit}
	}
	return err
}

var errRowTooLarge = errors.New("row too large")

// guardReader stops the CSV reader when it reads far past the start of the
// current row: encoding/csv has no row length limit of its own.
type guardReader struct {
	r     io.Reader
	n     int64 // bytes read
	mark  int64 // input offset of the current row's start
	limit int64
}

func (g *guardReader) Read(p []byte) (int, error) {
	if g.limit > 0 && g.n-g.mark > g.limit+64<<10 {
		return 0, errRowTooLarge
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}

func appendCell(out []byte, v string, k columnKind) []byte {
	if v == "" {
		return append(out, `""`...)
	}
	switch k {
	case kindInt:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return strconv.AppendInt(out, n, 10)
		}
	case kindFloat:
		if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return AppendPyFloat(out, f)
		}
	case kindBool:
		switch boolValue(v) {
		case 1:
			return append(out, "true"...)
		case 0:
			return append(out, "false"...)
		}
	}
	return AppendJSONString(out, v)
}

// boolValue returns 1 for pandas' true values, 0 for its false ones, -1
// otherwise.
func boolValue(v string) int {
	switch v {
	case "True", "TRUE", "true":
		return 1
	case "False", "FALSE", "false":
		return 0
	}
	return -1
}

// isInteger reports whether v is [+-]digits and fits an int64.
func isInteger(v string) bool {
	d := v
	if d != "" && (d[0] == '+' || d[0] == '-') {
		d = d[1:]
	}
	if d == "" {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseInt(v, 10, 64)
	return err == nil
}

// isNumber reports whether v is a plain decimal number, [+-]digits[.digits]
// [e[+-]digits] with digits on at least one side of the point, that is
// finite as a float64.
func isNumber(v string) bool {
	i := 0
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		i++
	}
	digits := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
		digits++
	}
	if i < len(v) && v[i] == '.' {
		i++
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		exp := 0
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	if i != len(v) {
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && !math.IsInf(f, 0)
}

// AppendPyFloat appends f as Python's repr writes a float (and json.dumps
// after it): the shortest digits that round-trip, always with a point or an
// exponent ("1.0", "0.1", "1e+16", "1.5e-05").
func AppendPyFloat(out []byte, f float64) []byte {
	if f == 0 {
		if math.Signbit(f) {
			return append(out, "-0.0"...)
		}
		return append(out, "0.0"...)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		out = append(out, mant...)
		out = append(out, 'e')
		if exp < 0 {
			out = append(out, '-')
			exp = -exp
		} else {
			out = append(out, '+')
		}
		if exp < 10 {
			out = append(out, '0')
		}
		return strconv.AppendInt(out, int64(exp), 10)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	out = append(out, s...)
	if !strings.Contains(s, ".") {
		out = append(out, ".0"...)
	}
	return out
}

// AppendJSONString appends s as a JSON string. s must be valid UTF-8.
func AppendJSONString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[start:i]...)
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	out = append(out, s[start:]...)
	return append(out, '"')
}
