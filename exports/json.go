package exports

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"labelstudio/store"
)

// jsonFormat is JSON (exports.md §4): result.json, an array of every task
// record with all of its completions, cancelled ones included, as stored.
//
// Each record's top-level keys are sorted, as in the completions files
// 0.8.1 kept on disk ("completions", "data", "id", "meta", "task_path");
// below the top level, keys keep their stored order. The layout is that of
// Python's json.dump(indent=2, ensure_ascii=False), which the converter
// used: numbers keep their stored text, and strings are written with
// non-ASCII characters as is (a stored "\u00e9" escape comes out as "é").
type jsonFormat struct{ genericFormat }

// Name returns "JSON".
func (jsonFormat) Name() string { return "JSON" }

// Write writes result.json.
func (jsonFormat) Write(zw *zip.Writer, tasks Iterator, _ Schema, opts Options) error {
	a := newArchive(zw, opts)
	w, err := a.stream("result.json")
	if err != nil {
		return err
	}
	var rec, out []byte
	n := 0
	err = tasks(func(t store.Task) error {
		if opts.OnlyCompleted && len(t.Completions) == 0 {
			return nil
		}
		rec, err = appendTaskRecord(rec[:0], t, opts.IncludePredictions)
		if err != nil {
			return fmt.Errorf("task %d: %w", t.ID, err)
		}
		if n == 0 {
			out = append(out[:0], "[\n  "...)
		} else {
			out = append(out[:0], ",\n  "...)
		}
		n++
		if out, err = appendPyRaw(out, rec, styleIndentUTF8, 1); err != nil {
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

// appendTaskRecord appends the compact completions record of a task: the
// stored task keys (without predictions unless asked) plus "completions",
// keys sorted.
func appendTaskRecord(b []byte, t store.Task, withPredictions bool) ([]byte, error) {
	top, err := objectMembers(t.Raw)
	if err != nil {
		return b, fmt.Errorf("stored task: %w", err)
	}
	// keys sorted; of duplicate keys the last counts, as in a JSON decoder
	sort.SliceStable(top, func(i, j int) bool { return top[i].Key < top[j].Key })
	top = append(top, jsonMember{Key: "completions"})
	sort.SliceStable(top, func(i, j int) bool { return top[i].Key < top[j].Key })
	b = append(b, '{')
	first := true
	for i, m := range top {
		if (i+1 < len(top) && top[i+1].Key == m.Key) || (m.Key == "predictions" && !withPredictions) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendPyString(b, m.Key, false)
		b = append(b, ':')
		if raw, ok := m.Value.(json.RawMessage); ok {
			b = append(b, raw...)
			continue
		}
		b = append(b, '[')
		for j, c := range t.Completions {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, bytes.TrimSpace(c.Raw)...)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}
