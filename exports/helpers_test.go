package exports

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"labelstudio/store"
)

// parseTestSchema builds a Schema from config XML following config.md §5,
// so that the tests do not depend on the labelconfig package.
func parseTestSchema(text string) (Schema, error) {
	d := xml.NewDecoder(strings.NewReader(text))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var s Schema
	type frame struct{ name string }
	var stack []frame
	controls := map[string]int{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, fmt.Errorf("parse config: %w", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range e.Attr {
				attr[a.Name.Local] = a.Value
			}
			tag := e.Name.Local
			name := attr["name"]
			switch {
			case name != "" && attr["toName"] != "" && tag != "Filter":
				controls[name] = len(s.Controls)
				s.Controls = append(s.Controls, Control{Name: name, Type: tag, ToName: strings.Split(attr["toName"], ",")})
			case name != "" && attr["value"] != "":
				s.Objects = append(s.Objects, Object{Name: name, Type: tag, Value: strings.TrimLeft(attr["value"], "$")})
			}
			if tag == "Label" || tag == "Choice" {
				label := attr["value"]
				if a, ok := attr["alias"]; ok {
					label = a
				}
				if _, hasValue := attr["value"]; hasValue || attr["alias"] != "" {
					for i := len(stack) - 1; i >= 0; i-- {
						if c, ok := controls[stack[i].name]; ok {
							s.Controls[c].Labels = append(s.Controls[c].Labels, label)
							break
						}
					}
				}
			}
			stack = append(stack, frame{name: name})
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return s, nil
}

// recordToTask converts a completions record in the stored shape ({"id",
// "data", ..., "completions": [...]}) to a store.Task as the store returns
// it. Completions without an id get taskID*1000+index+1 (string ids are
// parsed), and created_at, was_cancelled and skipped are read as the store
// reads them.
func recordToTask(raw []byte) (store.Task, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return store.Task{}, err
	}
	var id int64
	if err := json.Unmarshal(top["id"], &id); err != nil {
		return store.Task{}, fmt.Errorf("task id: %w", err)
	}
	var comps []json.RawMessage
	if c, ok := top["completions"]; ok {
		if err := json.Unmarshal(c, &comps); err != nil {
			return store.Task{}, fmt.Errorf("completions: %w", err)
		}
	}
	// Rebuild the task JSON the way the store writes it: id, data, meta,
	// predictions, task_path, then any other key.
	var b bytes.Buffer
	b.WriteString(`{"id":` + strconv.FormatInt(id, 10))
	order := []string{"data", "meta", "predictions", "task_path"}
	for k := range top {
		if k != "id" && k != "completions" && !contains(order, k) {
			order = append(order, k)
		}
	}
	for _, k := range order {
		if v, ok := top[k]; ok {
			kb, _ := json.Marshal(k)
			b.WriteString(",")
			b.Write(kb)
			b.WriteString(":")
			b.Write(v)
		}
	}
	b.WriteString("}")
	t := store.Task{ID: id, Raw: json.RawMessage(b.Bytes())}
	for i, c := range comps {
		var head struct {
			ID           json.RawMessage `json:"id"`
			CreatedAt    *float64        `json:"created_at"`
			WasCancelled *bool           `json:"was_cancelled"`
			Skipped      *bool           `json:"skipped"`
		}
		_ = json.Unmarshal(c, &head)
		comp := store.Completion{TaskID: id, Raw: c, ID: id*1000 + int64(i) + 1}
		if len(head.ID) > 0 {
			s := strings.Trim(string(head.ID), `"`)
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				comp.ID = n
			}
		}
		if head.CreatedAt != nil {
			comp.CreatedAt, comp.HasCreatedAt = int64(*head.CreatedAt), true
		}
		comp.WasCancelled = (head.WasCancelled != nil && *head.WasCancelled) || (head.Skipped != nil && *head.Skipped)
		t.Completions = append(t.Completions, comp)
		if comp.HasCreatedAt && (!t.HasCompletedAt || comp.CreatedAt > t.CompletedAt) {
			t.CompletedAt, t.HasCompletedAt = comp.CreatedAt, true
		}
		if comp.WasCancelled {
			t.Cancelled++
		}
	}
	return t, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// loadTasks reads a JSON array of completions records.
func loadTasks(t testing.TB, path string) []store.Task {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(raw, &records); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tasks := make([]store.Task, 0, len(records))
	for i, r := range records {
		task, err := recordToTask(r)
		if err != nil {
			t.Fatalf("%s: record %d: %v", path, i, err)
		}
		tasks = append(tasks, task)
	}
	return tasks
}

// sliceIterator iterates over tasks held in memory.
func sliceIterator(tasks []store.Task) Iterator {
	return func(fn func(store.Task) error) error {
		for _, t := range tasks {
			if err := fn(t); err != nil {
				return err
			}
		}
		return nil
	}
}

// zipEntry is one entry of an export.
type zipEntry struct {
	name string
	data []byte
}

// readZip returns the entries of a zip in order.
func readZip(t testing.TB, b []byte) []zipEntry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read zip: %v", err)
	}
	var out []zipEntry
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", f.Name, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		out = append(out, zipEntry{name: f.Name, data: data})
	}
	return out
}

// entryMap indexes entries by name.
func entryMap(entries []zipEntry) map[string][]byte {
	m := map[string][]byte{}
	for _, e := range entries {
		m[e.name] = e.data
	}
	return m
}
