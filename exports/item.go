package exports

import (
	"bytes"
	"encoding/json"
	"strings"

	"labelstudio/store"
)

// item is what JSON_MIN, CSV, TSV, CONLL2003, COCO, VOC, YOLO and
// ASR_MANIFEST export of one task (exports.md §3): its data and the results
// of its latest completion that was not skipped, grouped by control.
type item struct {
	id   int64
	data jsonObject
	// output holds the results per control, controls in order of first
	// appearance in the completion's result list.
	output []controlValues
}

// controlValues are the result values of one control within an item.
type controlValues struct {
	control *Control
	values  []regionValue
}

// regionValue is one result item's value object with the item-level facts
// the converter copies into it.
type regionValue struct {
	// index is the result item's position in the completion's result list.
	index int
	// raw is the value object as stored.
	raw json.RawMessage
	// members is raw split into ordered members with original_width and
	// original_height appended (or replaced) when the result item had them.
	members jsonObject
	// size is the stored original image size, when valid.
	size    imageSize
	hasSize bool
}

// resultItem is the part of a stored result item exports read, as raw
// JSON (of duplicate keys the last counts).
type resultItem struct {
	FromName       json.RawMessage
	Type           string
	Value          json.RawMessage
	OriginalWidth  json.RawMessage
	OriginalHeight json.RawMessage
}

// latestCompletion returns the completion §3 exports: among those not
// cancelled, the one with the greatest created_at (missing counts as 0),
// the earliest in the list on ties.
func latestCompletion(t store.Task) (store.Completion, bool) {
	var best store.Completion
	found := false
	for _, c := range t.Completions {
		if c.WasCancelled {
			continue
		}
		if !found || createdAt(c) > createdAt(best) {
			best, found = c, true
		}
	}
	return best, found
}

func createdAt(c store.Completion) int64 {
	if c.HasCreatedAt {
		return c.CreatedAt
	}
	return 0
}

// taskData returns the task's data object with its member order.
func taskData(t store.Task) (jsonObject, error) {
	top, err := objectMembers(t.Raw)
	if err != nil {
		return nil, err
	}
	v, ok := top.get("data")
	if !ok {
		return jsonObject{}, nil
	}
	raw, _ := v.(json.RawMessage)
	return objectMembers(raw)
}

// makeItem builds the item of a task, or reports false when the task has no
// completion that counts. Problems with single result items are warned
// about and the items skipped.
func makeItem(t store.Task, s Schema, warn *warnings) (item, bool) {
	c, ok := latestCompletion(t)
	if !ok {
		return item{}, false
	}
	it := item{id: t.ID}
	data, err := taskData(t)
	if err != nil {
		warn.add(t.ID, "task data is not a JSON object (%v); exported without data", err)
		data = jsonObject{}
	}
	it.data = data
	for i, r := range completionResults(t.ID, c, warn) {
		name, ok := fromName(r.FromName)
		if !ok {
			continue // relations and other items without from_name
		}
		ctrl := s.control(name)
		if ctrl == nil {
			continue // not a control of the current config
		}
		members, err := objectMembers(r.Value)
		if err != nil {
			warn.add(t.ID, "completion %d: result %d (%s): value is not a JSON object; skipped", c.ID, i, name)
			continue
		}
		rv := regionValue{index: i, raw: r.Value}
		if n, f, ok := numberText(r.OriginalWidth); ok {
			members = members.set("original_width", n)
			rv.size.W = f
		} else if len(r.OriginalWidth) > 0 {
			members = members.set("original_width", r.OriginalWidth)
		}
		if n, f, ok := numberText(r.OriginalHeight); ok {
			members = members.set("original_height", n)
			rv.size.H = f
		} else if len(r.OriginalHeight) > 0 {
			members = members.set("original_height", r.OriginalHeight)
		}
		rv.hasSize = rv.size.W > 0 && rv.size.H > 0
		rv.members = members
		it.add(ctrl, rv)
	}
	return it, true
}

// add appends a value to its control's group.
func (it *item) add(c *Control, v regionValue) {
	for i := range it.output {
		if it.output[i].control.Name == c.Name {
			it.output[i].values = append(it.output[i].values, v)
			return
		}
	}
	it.output = append(it.output, controlValues{control: c, values: []regionValue{v}})
}

// valuesOf returns, in output order, the values of every control whose type
// is one of types.
func (it *item) valuesOf(types ...string) []regionValue {
	var out []regionValue
	for _, cv := range it.output {
		if typeIn(cv.control.Type, types...) {
			out = append(out, cv.values...)
		}
	}
	return out
}

// completionResults decodes a completion's result list; items that are not
// objects are skipped with a warning.
func completionResults(taskID int64, c store.Completion, warn *warnings) []resultItem {
	body, err := objectMembers(c.Raw)
	if err != nil {
		warn.add(taskID, "completion %d is not a JSON object; skipped", c.ID)
		return nil
	}
	v, _ := body.get("result")
	raw, _ := v.(json.RawMessage)
	if t := bytes.TrimSpace(raw); len(t) == 0 || string(t) == "null" {
		return nil
	}
	raws, err := arrayElements(raw)
	if err != nil {
		warn.add(taskID, "completion %d: result is not a list; skipped", c.ID)
		return nil
	}
	out := make([]resultItem, 0, len(raws))
	for i, r := range raws {
		members, err := objectMembers(r)
		if err != nil {
			warn.add(taskID, "completion %d: result %d is not a JSON object; skipped", c.ID, i)
			out = append(out, resultItem{})
			continue
		}
		var item resultItem
		for _, m := range members {
			raw, _ := m.Value.(json.RawMessage)
			switch m.Key {
			case "from_name":
				item.FromName = raw
			case "type":
				item.Type, _ = rawString(raw)
			case "value":
				item.Value = raw
			case "original_width":
				item.OriginalWidth = raw
			case "original_height":
				item.OriginalHeight = raw
			}
		}
		out = append(out, item)
	}
	return out
}

// fromName returns a result item's from_name when it is a non-empty string.
func fromName(raw json.RawMessage) (string, bool) {
	s, ok := rawString(raw)
	return s, ok && s != ""
}

// dataString returns the task data value of key as text: a string as is,
// any other JSON value as its JSON text. ok is false when the key is absent
// or null.
func dataString(data jsonObject, key string) (string, bool) {
	v, ok := data.get(key)
	if !ok {
		return "", false
	}
	raw, _ := v.(json.RawMessage)
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return "", false
	}
	if s, ok := rawString(t); ok {
		return s, true
	}
	return string(t), true
}

// stringList decodes a JSON list of strings (or a single string); other
// elements are skipped.
func stringList(raw json.RawMessage) []string {
	if one, ok := rawString(raw); ok {
		return []string{one}
	}
	list, err := arrayElements(raw)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		if one, ok := rawString(e); ok {
			out = append(out, one)
		}
	}
	return out
}

// member returns the raw value of key in a region's value object.
func (v regionValue) member(key string) json.RawMessage {
	x, _ := v.members.get(key)
	raw, _ := x.(json.RawMessage)
	return raw
}

// labels returns the region's label list for a result type such as
// "rectanglelabels".
func (v regionValue) labels(key string) []string {
	return stringList(v.member(key))
}

// firstLabel returns the first label under key, or "".
func (v regionValue) firstLabel(key string) string {
	if l := v.labels(key); len(l) > 0 {
		return l[0]
	}
	return ""
}

// isType compares a control type ignoring case.
func isType(c *Control, t string) bool { return strings.EqualFold(c.Type, t) }
