package labelconfig

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"sync"
)

// Config is a parsed labeling config. It keeps the raw text and the model
// derived from it; it is immutable and safe for concurrent use.
type Config struct {
	raw      string
	doc      *document
	dataKeys []DataKey
	objects  []ObjectTag
	objByKey map[string]int // object name -> index in objects
	controls []ControlTag
	ctrlByNm map[string]int // control name -> index in controls
	tags     map[string]struct{}

	fullOnce sync.Once
	full     string
	lineOnce sync.Once
	line     string
}

// DataKey is one task data key the config reads (config.md §4.1): Key is
// the value of a `value="$key"` attribute without the "$", Tag the name of
// the (last) element that reads it.
type DataKey struct {
	Key string
	Tag string
}

// ObjectTag is an input (object) tag of the parsed config (config.md §5): an
// element that is not a control and has a non-empty name and value.
type ObjectTag struct {
	// Name is the tag's name attribute.
	Name string
	// Type is the tag name, e.g. "Image".
	Type string
	// Value is the value attribute with leading "$" characters removed.
	Value string
}

// ControlTag is an output (control) tag of the parsed config (config.md §5):
// an element other than Filter with a non-empty name and toName.
type ControlTag struct {
	// Name is the tag's name attribute (the from_name of results).
	Name string
	// Type is the tag name, e.g. "Choices".
	Type string
	// ToName is the toName attribute split on ",".
	ToName []string
	// Inputs are the object tags named by ToName, in ToName order; names
	// that are not object tags are skipped (Validate rejects them).
	Inputs []ObjectTag
	// Labels are the label values of the Label and Choice elements the tag
	// owns: alias if present, else value, unique, in document order.
	Labels []string
	// LabelAttrs maps each label to the attributes of its (last) element.
	LabelAttrs map[string]map[string]string
}

// Parse checks that text is well-formed XML within the package limits and
// builds the model. It does not run the validation rules; see Validate. The
// error is an *Error.
func Parse(text string) (*Config, error) {
	doc, err := parseXML(text)
	if err != nil {
		return nil, err
	}
	return build(text, doc), nil
}

// build derives the model from a parsed document.
func build(raw string, doc *document) *Config {
	c := &Config{
		raw:      raw,
		doc:      doc,
		objByKey: map[string]int{},
		ctrlByNm: map[string]int{},
		tags:     map[string]struct{}{},
	}
	keyPos := map[string]int{}
	for i := range doc.elems {
		e := &doc.elems[i]
		if _, ok := c.tags[e.Tag]; !ok {
			c.tags[e.Tag] = struct{}{}
		}
		// §4.1 data keys: every element below the root whose value starts
		// with "$" and is longer than one character.
		if i > 0 {
			if v, ok := e.Attr("value"); ok && len(v) > 1 && v[0] == '$' {
				key := v[1:]
				if at, seen := keyPos[key]; seen {
					c.dataKeys[at].Tag = e.Tag
				} else {
					keyPos[key] = len(c.dataKeys)
					c.dataKeys = append(c.dataKeys, DataKey{Key: key, Tag: e.Tag})
				}
			}
		}
		// §5 parsed config: outputs, inputs and labels.
		name, _ := e.Attr("name")
		toName, _ := e.Attr("toName")
		value, _ := e.Attr("value")
		switch {
		case name != "" && toName != "" && e.Tag != "Filter":
			ct := ControlTag{Name: name, Type: e.Tag, ToName: strings.Split(toName, ",")}
			if at, ok := c.ctrlByNm[name]; ok {
				c.controls[at] = ct // a later tag with the same name wins
			} else {
				c.ctrlByNm[name] = len(c.controls)
				c.controls = append(c.controls, ct)
			}
		case name != "" && value != "":
			ot := ObjectTag{Name: name, Type: e.Tag, Value: strings.TrimLeft(value, "$")}
			if at, ok := c.objByKey[name]; ok {
				c.objects[at] = ot
			} else {
				c.objByKey[name] = len(c.objects)
				c.objects = append(c.objects, ot)
			}
		}
		if e.Tag == "Label" || e.Tag == "Choice" {
			c.addLabel(e)
		}
	}
	for i := range c.controls {
		ct := &c.controls[i]
		for _, to := range ct.ToName {
			if at, ok := c.objByKey[to]; ok {
				ct.Inputs = append(ct.Inputs, c.objects[at])
			}
		}
	}
	return c
}

// addLabel registers a Label or Choice with the nearest ancestor that is a
// registered control tag.
func (c *Config) addLabel(e *Element) {
	owner := -1
	for p := e.Parent; p != nil; p = p.Parent {
		if n, ok := p.Attr("name"); ok {
			if at, ok := c.ctrlByNm[n]; ok {
				owner = at
				break
			}
		}
	}
	if owner < 0 {
		return
	}
	label, _ := e.Attr("alias")
	if label == "" {
		label, _ = e.Attr("value")
	}
	if label == "" {
		return
	}
	ct := &c.controls[owner]
	if ct.LabelAttrs == nil {
		ct.LabelAttrs = map[string]map[string]string{}
	}
	if _, seen := ct.LabelAttrs[label]; !seen {
		ct.Labels = append(ct.Labels, label)
	}
	attrs := make(map[string]string, len(e.Attrs))
	for _, a := range e.Attrs {
		attrs[a.Name] = a.Value
	}
	ct.LabelAttrs[label] = attrs
}

// Raw returns the config text exactly as given to Parse or Validate.
func (c *Config) Raw() string { return c.raw }

// Full returns the full config (config.md §2): the text without comments.
// See FullConfig.
func (c *Config) Full() string {
	c.fullOnce.Do(func() { c.full = fullFromDoc(c.raw, c.doc) })
	return c.full
}

// Line returns the line config (config.md §2): the full config without line
// breaks. See LineConfig.
func (c *Config) Line() string {
	c.lineOnce.Do(func() { c.line = stripLineBreaks(c.Full()) })
	return c.line
}

// Root returns the root element. The tree must not be modified.
func (c *Config) Root() *Element { return c.doc.root() }

// Elements returns every element in document order, the root first. The
// elements must not be modified.
func (c *Config) Elements() []*Element {
	out := make([]*Element, len(c.doc.elems))
	for i := range c.doc.elems {
		out[i] = &c.doc.elems[i]
	}
	return out
}

// HasComments reports whether the config text contains an XML comment.
func (c *Config) HasComments() bool { return len(c.doc.comments) > 0 }

// DataKeys returns the task data keys the config reads, in document order
// (config.md §4.1).
func (c *Config) DataKeys() []DataKey {
	return append([]DataKey(nil), c.dataKeys...)
}

// FirstDataKey returns the first data key, "" when there is none. Imports use
// it in place of "$undefined$".
func (c *Config) FirstDataKey() string {
	if len(c.dataKeys) == 0 {
		return ""
	}
	return c.dataKeys[0].Key
}

// DataTypesJSON returns the data keys as the ordered JSON object
// {"key": "Tag", ...} that /api/project reports as data_types.
func (c *Config) DataTypesJSON() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, dk := range c.dataKeys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, dk.Key)
		b.WriteByte(':')
		writeJSONString(&b, dk.Tag)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Objects returns the input (object) tags in document order.
func (c *Config) Objects() []ObjectTag {
	return append([]ObjectTag(nil), c.objects...)
}

// Object returns the input tag called name.
func (c *Config) Object(name string) (ObjectTag, bool) {
	if at, ok := c.objByKey[name]; ok {
		return c.objects[at], true
	}
	return ObjectTag{}, false
}

// Controls returns the output (control) tags in document order. The slices
// and maps inside each ControlTag are shared and must not be modified.
func (c *Config) Controls() []ControlTag {
	return append([]ControlTag(nil), c.controls...)
}

// Control returns the control tag called name.
func (c *Config) Control(name string) (ControlTag, bool) {
	if at, ok := c.ctrlByNm[name]; ok {
		return c.controls[at], true
	}
	return ControlTag{}, false
}

// HasTag reports whether any element of the config, the root included, has
// the given tag name.
func (c *Config) HasTag(tag string) bool {
	_, ok := c.tags[tag]
	return ok
}

// ParsedConfig returns the parsed config of config.md §5 as JSON, keyed by
// control name in document order: {"<name>": {"type", "to_name", "inputs",
// "labels", "labels_attrs"}}. Exports and ML helpers use this shape.
func (c *Config) ParsedConfig() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, ct := range c.controls {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, ct.Name)
		b.WriteString(`:{"type":`)
		writeJSONString(&b, ct.Type)
		b.WriteString(`,"to_name":[`)
		for j, t := range ct.ToName {
			if j > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, t)
		}
		b.WriteString(`],"inputs":[`)
		for j, in := range ct.Inputs {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"type":`)
			writeJSONString(&b, in.Type)
			b.WriteString(`,"value":`)
			writeJSONString(&b, in.Value)
			b.WriteByte('}')
		}
		b.WriteString(`],"labels":[`)
		for j, l := range ct.Labels {
			if j > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, l)
		}
		b.WriteString(`],"labels_attrs":{`)
		for j, l := range ct.Labels {
			if j > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, l)
			b.WriteByte(':')
			writeAttrsJSON(&b, ct.LabelAttrs[l])
		}
		b.WriteString(`}}`)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// writeAttrsJSON writes an attribute map as a JSON object with sorted keys.
func writeAttrsJSON(b *bytes.Buffer, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, k)
		b.WriteByte(':')
		writeJSONString(b, m[k])
	}
	b.WriteByte('}')
}

// writeJSONString writes s as a JSON string literal without HTML escaping.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		b.WriteString(`""`)
		return
	}
	// Encode appends a newline; drop it.
	b.Truncate(b.Len() - 1)
}
