package labelconfig

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// namesInMessage caps how many names an error message lists.
const namesInMessage = 100

// Validate runs the validation pipeline of config.md §3.1–3.5 on text and
// returns the parsed config. The steps run in order and the first failing
// step is reported (with every problem that step found, up to MaxMessages):
//
//  1. well-formed XML within the package limits;
//  2. the schema rules of label_config_schema.json (only for a config
//     rooted at <View>);
//  3. `name` attributes are unique;
//  4. every comma-separated `toName` item names some element;
//  5. every `toName` item of a control tag names an input (object) tag.
//
// On failure the error is an *Error. The compatibility checks with existing
// tasks and completions (§3.6) are in CheckCompatibility.
func Validate(text string) (*Config, error) {
	c, err := Parse(text)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate runs steps 2–5 of the validation pipeline (see the Validate
// function) on a config that Parse accepted. The error is an *Error.
func (c *Config) Validate() error {
	if e := c.checkSchema(); e != nil {
		return e
	}
	names := c.names()
	if e := c.checkUniqueNames(names); e != nil {
		return e
	}
	if e := c.checkToNamesExist(names); e != nil {
		return e
	}
	if e := c.checkToNamesAreInputs(); e != nil {
		return e
	}
	return nil
}

// --- step 2: schema -----------------------------------------------------

// schemaChecker applies the rules of label_config_schema.json directly on the
// element tree. Paths are the BadgerFish JSON paths of the failing node,
// e.g. "View/Choices/Choice/0/@value".
type schemaChecker struct {
	msgs messageList
}

func (c *Config) checkSchema() error {
	root := c.Root()
	if root.Tag != "View" {
		return nil // only a <View> root is constrained
	}
	var s schemaChecker
	s.view(root, &jsonPath{tag: "View", index: -1}, false)
	if e := s.msgs.err(); e != nil {
		return e
	}
	return nil
}

// jsonPath is the BadgerFish JSON path of a node, rendered only when a
// message needs it: e.g. View/Choices/Choice/0 or, with attr, .../@value.
type jsonPath struct {
	parent *jsonPath
	tag    string
	index  int // position among same-named siblings; -1 for a single child
}

func (p *jsonPath) String() string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p *jsonPath) write(b *strings.Builder) {
	if p.parent != nil {
		p.parent.write(b)
		b.WriteByte('/')
	}
	b.WriteString(p.tag)
	if p.index >= 0 {
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(p.index))
	}
}

// fail reports a problem at path, or at path/<suffix> when suffix is set.
func (s *schemaChecker) fail(path *jsonPath, suffix, format string, args ...any) {
	if s.msgs.full() {
		s.msgs.dropped++
		return
	}
	where := path.String()
	if suffix != "" {
		where += "/" + suffix
	}
	s.msgs.add("Validation failed on %s: %s", where, fmt.Sprintf(format, args...))
}

// tags the View definition constrains; the root View lacks Label and Choice.
var viewTags = []string{"Labels", "Choices", "Label", "Choice", "Image", "Text", "HyperText", "View"}

// view checks a View element: the root one (nested=false) or one reached
// through View children or inside Labels/Choices (nested=true).
func (s *schemaChecker) view(e *Element, path *jsonPath, nested bool) {
	var counts [8]int
	for _, ch := range e.Children {
		if k := viewTagIndex(ch.Tag); k >= 0 {
			counts[k]++
		}
	}
	var seen [8]int
	for _, ch := range e.Children {
		k := viewTagIndex(ch.Tag)
		if k < 0 {
			continue
		}
		p := childPath(path, ch.Tag, seen[k], counts[k])
		seen[k]++
		switch ch.Tag {
		case "Labels":
			s.labels(ch, &p)
		case "Choices":
			s.choices(ch, &p)
		case "Label", "Choice":
			if nested {
				s.tagWithValue(ch, &p, false)
			}
		case "Image", "Text", "HyperText":
			s.tagWithValue(ch, &p, true)
		case "View":
			s.view(ch, &p, true)
		}
	}
}

func viewTagIndex(tag string) int {
	for i, t := range viewTags {
		if t == tag {
			return i
		}
	}
	return -1
}

// childPath is the JSON path of the index-th child called tag among count
// such siblings: a single child is an object, several form an array.
func childPath(parent *jsonPath, tag string, index, count int) jsonPath {
	if count > 1 {
		return jsonPath{parent: parent, tag: tag, index: index}
	}
	return jsonPath{parent: parent, tag: tag, index: -1}
}

// tagWithValue checks the tag_with_value(_required_name) definitions:
// required value (and name), value and text must be strings.
func (s *schemaChecker) tagWithValue(e *Element, path *jsonPath, requireName bool) {
	if requireName && e.attr("name") == nil {
		s.fail(path, "", "'name' is a required property")
	}
	if a := e.attr("value"); a == nil {
		s.fail(path, "", "'value' is a required property")
	} else {
		s.mustBeString(a.xmlValue(), path, "@value")
	}
	s.textMustBeString(e, path)
}

// mustBeString reports a value that BadgerFish converts to a non-string.
func (s *schemaChecker) mustBeString(v string, path *jsonPath, suffix string) {
	if plainString(v) {
		return
	}
	if kind, repr := pyConvert(v); kind != kindString {
		s.fail(path, suffix, "%s is not of type 'string'", repr)
	}
}

// textMustBeString checks the "$" property: non-blank leading text must
// stay a string after conversion.
func (s *schemaChecker) textMustBeString(e *Element, path *jsonPath) {
	if e.Text == "" {
		return
	}
	t := pyStrip(e.Text)
	if t == "" {
		return
	}
	s.mustBeString(t, path, "$")
}

// nameAndToName checks the required, string-typed name and toName of
// Labels and Choices.
func (s *schemaChecker) nameAndToName(e *Element, path *jsonPath) {
	for _, n := range [...]string{"name", "toName"} {
		if a := e.attr(n); a == nil {
			s.fail(path, "", "'%s' is a required property", n)
		} else {
			s.mustBeString(a.xmlValue(), path, "@"+n)
		}
	}
	s.textMustBeString(e, path)
}

// labels checks a Labels element: name, toName, a Label or View child; each
// Label (one or many) has a string value; View children are nested views.
func (s *schemaChecker) labels(e *Element, path *jsonPath) {
	s.nameAndToName(e, path)
	s.items(e, path, "Label", false)
}

// choices checks a Choices element like labels, except that Choice must be
// an array: a single Choice child is rejected.
func (s *schemaChecker) choices(e *Element, path *jsonPath) {
	s.nameAndToName(e, path)
	s.items(e, path, "Choice", true)
}

func (s *schemaChecker) items(e *Element, path *jsonPath, item string, mustBeArray bool) {
	nItems, nViews := 0, 0
	for _, ch := range e.Children {
		switch ch.Tag {
		case item:
			nItems++
		case "View":
			nViews++
		}
	}
	if nItems == 0 && nViews == 0 {
		s.fail(path, "", "'%s' or 'View' is a required property", item)
	}
	iItem, iView := 0, 0
	for _, ch := range e.Children {
		switch ch.Tag {
		case item:
			p := childPath(path, item, iItem, nItems)
			iItem++
			if nItems == 1 && mustBeArray {
				s.fail(&p, "", "%s is not of type 'array'", dictRepr(ch))
				continue
			}
			s.tagWithValue(ch, &p, false)
		case "View":
			p := childPath(path, "View", iView, nViews)
			iView++
			s.view(ch, &p, true)
		}
	}
}

// dictRepr renders an element's BadgerFish object (attributes and text) as
// a Python dict, with the "@" of attribute keys removed as 0.8.1's messages
// do.
func dictRepr(e *Element) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range e.Attrs {
		if i > 0 {
			b.WriteString(", ")
		}
		_, repr := pyConvert(e.Attrs[i].xmlValue())
		b.WriteString(pyStrRepr(e.Attrs[i].Name))
		b.WriteString(": ")
		b.WriteString(repr)
	}
	if t := pyStrip(e.Text); t != "" {
		if len(e.Attrs) > 0 {
			b.WriteString(", ")
		}
		_, repr := pyConvert(t)
		b.WriteString("'$': ")
		b.WriteString(repr)
	}
	b.WriteByte('}')
	out := b.String()
	if len(out) > 200 {
		out = truncateUTF8(out, 200) + "...}"
	}
	return out
}

// truncateUTF8 cuts s to at most n bytes without splitting a rune.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// --- step 3: unique names -----------------------------------------------

// names returns every name attribute in document order.
func (c *Config) names() []string {
	out := make([]string, 0, len(c.ctrlByNm)+len(c.objByKey))
	for i := range c.doc.elems {
		if n, ok := c.doc.elems[i].Attr("name"); ok {
			out = append(out, n)
		}
	}
	return out
}

func (c *Config) checkUniqueNames(all []string) error {
	seen := make(map[string]int, len(all))
	var dups []string
	for _, n := range all {
		seen[n]++
		if seen[n] == 2 {
			dups = append(dups, n)
		}
	}
	if len(dups) == 0 {
		return nil
	}
	if len(all) <= namesInMessage {
		return newError("Label config contains non-unique names %s", pyListRepr(all, 0))
	}
	return newError("Label config contains non-unique names: %s are used more than once",
		pyListRepr(dups, namesInMessage))
}

// --- step 4: toName items exist -----------------------------------------

func (c *Config) checkToNamesExist(all []string) error {
	names := make(map[string]struct{}, len(all))
	for _, n := range all {
		names[n] = struct{}{}
	}
	var msgs messageList
	reported := map[string]bool{}
	known := "" // the sorted names, rendered once
	for i := range c.doc.elems {
		to, ok := c.doc.elems[i].Attr("toName")
		if !ok {
			continue
		}
		for _, item := range strings.Split(to, ",") {
			if _, ok := names[item]; ok || reported[item] {
				continue
			}
			reported[item] = true
			if known == "" {
				sorted := make([]string, 0, len(names))
				for n := range names {
					sorted = append(sorted, n)
				}
				sort.Strings(sorted)
				known = pyListRepr(sorted, namesInMessage)
			}
			msgs.add("toName=\"%s\" not found in names: %s", item, known)
		}
	}
	if e := msgs.err(); e != nil {
		return e
	}
	return nil
}

// --- step 5: toName items are input tags --------------------------------

func (c *Config) checkToNamesAreInputs() error {
	var msgs messageList
	for _, ct := range c.controls {
		for _, to := range ct.ToName {
			if _, ok := c.objByKey[to]; !ok {
				msgs.add("to_name=%s is specified for output tag name=%s, but we can't find it among input tags", to, ct.Name)
			}
		}
	}
	if e := msgs.err(); e != nil {
		return e
	}
	return nil
}
