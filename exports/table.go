package exports

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"labelstudio/store"
)

// tableFormat is CSV or TSV (exports.md §6): the JSON_MIN records as a
// table in result.csv (also for TSV, as in 0.0.20). Columns are the union of
// the records' keys in order of first appearance, so rows are spooled to a
// temporary file until the header is known.
type tableFormat struct {
	genericFormat
	name string
	sep  byte
}

// Name returns "CSV" or "TSV".
func (f tableFormat) Name() string { return f.name }

// Write writes result.csv.
func (f tableFormat) Write(zw *zip.Writer, tasks Iterator, s Schema, opts Options) error {
	a := newArchive(zw, opts)
	sp, err := newSpool()
	if err != nil {
		return err
	}
	defer sp.remove()
	colIndex := map[string]int{}
	var columns []string
	var cols []int
	var cells []string
	err = tasks(func(t store.Task) error {
		it, ok := makeItem(t, s, &a.warn)
		if !ok {
			return nil
		}
		cols, cells = cols[:0], cells[:0]
		controls := map[string]bool{}
		for _, cv := range it.output {
			controls[cv.control.Name] = true
		}
		for _, m := range minRecord(it) {
			var cell string
			var err error
			switch {
			case controls[m.Key]:
				cell, err = controlCell(m.Value)
			case m.Key == "id":
				cell = strconv.FormatInt(it.id, 10)
			default:
				cell, err = dataCell(m.Value)
			}
			if err != nil {
				return fmt.Errorf("task %d: column %s: %w", t.ID, m.Key, err)
			}
			c, seen := colIndex[m.Key]
			if !seen {
				c = len(columns)
				colIndex[m.Key] = c
				columns = append(columns, m.Key)
			}
			cols, cells = append(cols, c), append(cells, cell)
		}
		return sp.writeRow(cols, cells)
	})
	if err != nil {
		return err
	}
	w, err := a.stream("result.csv")
	if err != nil {
		return err
	}
	if len(columns) > 0 {
		if err := f.writeLine(w, columns); err != nil {
			return err
		}
		r, err := sp.reader()
		if err != nil {
			return err
		}
		row := make([]string, len(columns))
		for {
			err := readRow(r, row)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if err := f.writeLine(w, row); err != nil {
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write result.csv: %w", err)
	}
	return a.finish()
}

// writeLine writes one table line, quoting minimally: a field is quoted when
// it holds the separator, a quote, CR or LF, and quotes inside are doubled.
func (f tableFormat) writeLine(w *bufio.Writer, fields []string) error {
	for i, s := range fields {
		if i > 0 {
			w.WriteByte(f.sep)
		}
		if strings.IndexByte(s, f.sep) < 0 && !strings.ContainsAny(s, "\"\r\n") {
			w.WriteString(s)
			continue
		}
		w.WriteByte('"')
		w.WriteString(strings.ReplaceAll(s, `"`, `""`))
		w.WriteByte('"')
	}
	if err := w.WriteByte('\n'); err != nil {
		return fmt.Errorf("write result.csv: %w", err)
	}
	return nil
}

// controlCell renders a prettified control value: a string as is, anything
// else as Python's json.dumps would (", " and ": " separators, non-ASCII
// escaped).
func controlCell(v any) (string, error) {
	if raw, ok := v.(json.RawMessage); ok {
		if s, ok := rawString(raw); ok {
			return s, nil
		}
	}
	b, err := appendPy(nil, v, styleCompactASCII, 0)
	return string(b), err
}

// dataCell renders a task data value: strings as text, numbers as written,
// booleans as True/False (as pandas does), null as an empty cell, lists and
// objects as one-line JSON.
func dataCell(v any) (string, error) {
	raw, _ := v.(json.RawMessage)
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		b, err := appendPy(nil, v, styleCompactUTF8, 0)
		return string(b), err
	}
	switch t[0] {
	case '"':
		s, ok := rawString(t)
		if !ok {
			return "", errSyntax
		}
		return s, nil
	case 't':
		return "True", nil
	case 'f':
		return "False", nil
	case 'n':
		return "", nil
	case '{', '[':
		b, err := appendPy(nil, raw, styleCompactUTF8, 0)
		return string(b), err
	}
	return string(t), nil
}
