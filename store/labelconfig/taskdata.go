package labelconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// jsonKind is the JSON type of a task data value, named like the Python
// type 0.8.1 reports.
type jsonKind string

const (
	jsonStr   jsonKind = "str"
	jsonInt   jsonKind = "int"
	jsonFloat jsonKind = "float"
	jsonBool  jsonKind = "bool"
	jsonList  jsonKind = "list"
	jsonDict  jsonKind = "dict"
	jsonNull  jsonKind = "NoneType"
)

// kindOf classifies a raw JSON value by its first byte.
func kindOf(v json.RawMessage) jsonKind {
	t := bytes.TrimLeft(v, " \t\r\n")
	if len(t) == 0 {
		return jsonNull
	}
	switch t[0] {
	case '"':
		return jsonStr
	case '{':
		return jsonDict
	case '[':
		return jsonList
	case 't', 'f':
		return jsonBool
	case 'n':
		return jsonNull
	}
	if bytes.ContainsAny(t, ".eE") {
		return jsonFloat
	}
	return jsonInt
}

// acceptedKinds returns the JSON types an object tag accepts (config.md
// §4.2). Booleans pass for Text and Header as they do in 0.8.1.
func acceptedKinds(tag string) []jsonKind {
	switch tag {
	case "Text", "Header":
		return []jsonKind{jsonStr, jsonInt, jsonFloat, jsonBool}
	case "List", "Dialog":
		return []jsonKind{jsonList}
	case "Table":
		return []jsonKind{jsonDict}
	case "TimeSeries", "TimeSeriesChannel":
		return []jsonKind{jsonDict, jsonList, jsonStr}
	}
	return []jsonKind{jsonStr}
}

// CheckTaskData checks one task's data against the config (config.md §4.2,
// api.md §4.3) and returns the reasons it fails, one per data key at fault,
// in data key order; nil means the data is acceptable. Every data key must
// be present (extra keys are fine) and hold a JSON type its tag accepts; for
// a List each element must be an object with a "text" key. 0.8.1 reports
// only the first reason. Replacing "$undefined$" with FirstDataKey is the
// caller's job and must happen before this check.
func (c *Config) CheckTaskData(data map[string]json.RawMessage) []string {
	var reasons []string
	for _, dk := range c.dataKeys {
		v, ok := data[dk.Key]
		if !ok {
			reasons = append(reasons, fmt.Sprintf("%q key is expected in task data", dk.Key))
			continue
		}
		kind := kindOf(v)
		accepted := acceptedKinds(dk.Tag)
		if !containsKind(accepted, kind) {
			names := make([]string, len(accepted))
			for i, k := range accepted {
				names[i] = string(k)
			}
			reasons = append(reasons, fmt.Sprintf("data[%q]=%s is of type %q, but types %q are expected",
				dk.Key, shortJSON(v), string(kind), strings.Join(names, ", ")))
			continue
		}
		if dk.Tag == "List" && !listItemsHaveText(v) {
			reasons = append(reasons, "Each item from List must have key text")
		}
	}
	return reasons
}

func containsKind(list []jsonKind, k jsonKind) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

// listItemsHaveText reports whether every element of a JSON array is an
// object with a "text" key.
func listItemsHaveText(v json.RawMessage) bool {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		return false
	}
	for _, it := range items {
		if kindOf(it) != jsonDict {
			return false
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(it, &obj); err != nil {
			return false
		}
		if _, ok := obj["text"]; !ok {
			return false
		}
	}
	return true
}

// shortJSON renders a value compactly for a message, cut at 100 bytes.
func shortJSON(v json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		b.Reset()
		b.Write(v)
	}
	s := b.String()
	if len(s) > 100 {
		s = truncateUTF8(s, 100) + "..."
	}
	return s
}

// SupportedImportFormats returns the import formats offered for the config
// (config.md §4.3): "json", "csv", "tsv", plus "txt" when there is exactly
// one data key; only "json" when the config contains a List element.
func (c *Config) SupportedImportFormats() []string {
	if c.HasTag("List") {
		return []string{"json"}
	}
	out := []string{"json", "csv", "tsv"}
	if len(c.dataKeys) == 1 {
		out = append(out, "txt")
	}
	return out
}
