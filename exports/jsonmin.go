package exports

import (
	"archive/zip"
	"fmt"

	"labelstudio/store"
)

// jsonMinFormat is JSON_MIN (exports.md §5): result.json, one flat record
// per task with a completion that was not skipped — the task data, "id",
// then one key per control holding its prettified values.
type jsonMinFormat struct{ genericFormat }

// Name returns "JSON_MIN".
func (jsonMinFormat) Name() string { return "JSON_MIN" }

// Write writes result.json.
func (jsonMinFormat) Write(zw *zip.Writer, tasks Iterator, s Schema, opts Options) error {
	a := newArchive(zw, opts)
	w, err := a.stream("result.json")
	if err != nil {
		return err
	}
	var out []byte
	n := 0
	err = tasks(func(t store.Task) error {
		it, ok := makeItem(t, s, &a.warn)
		if !ok {
			return nil
		}
		if n == 0 {
			out = append(out[:0], "[\n  "...)
		} else {
			out = append(out[:0], ",\n  "...)
		}
		n++
		out, err = appendPy(out, minRecord(it), styleIndentUTF8, 1)
		if err != nil {
			return fmt.Errorf("task %d: %w", t.ID, err)
		}
		if _, err := w.Write(out); err != nil {
			return fmt.Errorf("write result.json: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	end := "\n]"
	if n == 0 {
		end = "[]"
	}
	if _, err := w.WriteString(end); err != nil {
		return fmt.Errorf("write result.json: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write result.json: %w", err)
	}
	return a.finish()
}

// minRecord is the JSON_MIN, CSV and TSV record of an item: a copy of the
// data (same key order), "id" set (in place when the data has an id), then
// each control's prettified values.
func minRecord(it item) jsonObject {
	rec := make(jsonObject, len(it.data), len(it.data)+1+len(it.output))
	copy(rec, it.data)
	rec = rec.set("id", it.id)
	for _, cv := range it.output {
		rec = rec.set(cv.control.Name, prettify(cv))
	}
	return rec
}

// prettify shortens one control's values as the converter does: values
// lose the "type" key, a Choices value with exactly one choice becomes that
// choice, and a Choices control with a single value is that value rather
// than a list.
func prettify(cv controlValues) any {
	choices := isType(cv.control, "Choices")
	out := make([]any, 0, len(cv.values))
	for _, v := range cv.values {
		m := v.members.without("type")
		if choices {
			if list, err := arrayElements(v.member("choices")); err == nil && len(list) == 1 {
				out = append(out, list[0])
				continue
			}
		}
		out = append(out, m)
	}
	if choices && len(out) == 1 {
		return out[0]
	}
	return out
}
