package labelconfig

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Element is one XML element of a parsed config. Elements are shared by every
// user of a Config and must not be modified.
type Element struct {
	// Tag is the element name as written, including any namespace prefix.
	Tag string
	// Attrs are the attributes in document order. Values are entity-decoded
	// with "line config" semantics: raw line breaks are deleted (as 0.8.1
	// does before the frontend, exports and ML backends see the config) and
	// raw tabs become spaces.
	Attrs []Attr
	// Children are the child elements in document order.
	Children []*Element
	// Parent is the enclosing element, nil for the root.
	Parent *Element
	// Text is the character data before the first child node (element,
	// comment or processing instruction), entity-decoded, with line ends
	// normalised to "\n" and not trimmed.
	Text string
	// Line is the 1-based line of the start tag in the parsed text.
	Line int

	offset int // byte offset of '<' in the parsed text
}

// Attr is one attribute of an Element.
type Attr struct {
	// Name is the attribute name as written.
	Name string
	// Value is the decoded value with line config semantics (see Element).
	Value string

	raw      string // the value exactly as written between the quotes
	hasBreak bool   // raw contains a line break
}

// Attr returns the value of the attribute called name and whether it exists.
func (e *Element) Attr(name string) (string, bool) {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			return e.Attrs[i].Value, true
		}
	}
	return "", false
}

// attr returns the named attribute, nil when absent.
func (e *Element) attr(name string) *Attr {
	for i := range e.Attrs {
		if e.Attrs[i].Name == name {
			return &e.Attrs[i]
		}
	}
	return nil
}

// xmlValue is the attribute value with XML attribute-value normalisation
// (each raw line break or tab becomes a space) instead of line config
// semantics. The schema step uses it because 0.8.1 validates the raw text.
func (a *Attr) xmlValue() string {
	if !a.hasBreak {
		return a.Value
	}
	v, err := decodeAttr(a.raw, false)
	if err != nil {
		return a.Value
	}
	return v
}

// span is a byte range [start, end) of the parsed text.
type span struct{ start, end int }

// document is the result of parsing: every element in document order (the
// root first) plus what FullConfig needs to strip comments.
type document struct {
	elems    []Element
	rootSpan span
	comments []span
}

func (d *document) root() *Element { return &d.elems[0] }

// syntaxError is a well-formedness error at a byte offset.
type syntaxError struct {
	offset int
	msg    string
}

// xmlParser is a strict, non-validating XML 1.0 parser. It does not load
// external entities and does not expand entities declared in a DTD.
type xmlParser struct {
	src      string
	pos      int
	elems    []Element
	info     []elemInfo
	attrs    []Attr
	stack    []int32
	comments []span
	seen     map[string]struct{} // duplicate-attribute check for long tags
	err      *syntaxError
	ns       []nsBinding // namespace prefixes declared by open elements

	// Leading text of the innermost open element, gathered in one buffer so
	// that many pieces (text, CDATA, text, ...) cost linear time.
	textOwner int32 // element collecting text, -1 for none
	textFirst string
	textBuf   []byte
	textMulti bool
}

// nsBinding is a namespace prefix declared (xmlns:prefix) by the element at
// a stack depth.
type nsBinding struct {
	depth  int
	prefix string
}

// elemInfo is per-element bookkeeping used while building the tree.
type elemInfo struct {
	parent         int32
	attrLo, attrHi int32
	children       int32
	childNodeSeen  bool // leading text is complete
}

func (p *xmlParser) fail(offset int, format string, args ...any) bool {
	if p.err == nil {
		p.err = &syntaxError{offset: offset, msg: fmt.Sprintf(format, args...)}
	}
	return false
}

// parseXML parses src into a document. The error is an *Error.
func parseXML(src string) (*document, error) {
	if len(src) > MaxConfigSize {
		return nil, newError("label config is too large: %d bytes, the limit is %d bytes", len(src), MaxConfigSize)
	}
	p := &xmlParser{src: src, textOwner: -1}
	p.presize()
	doc, ok := p.document()
	if !ok {
		return nil, p.error()
	}
	return doc, nil
}

// presize allocates the element and attribute slices once, from upper
// bounds counted in the text ('<' per element, '=' per attribute), so that
// parsing a large config does not keep copying them while they grow.
func (p *xmlParser) presize() {
	elems := min(strings.Count(p.src, "<")-strings.Count(p.src, "</")+1, MaxElements)
	attrs := min(strings.Count(p.src, "="), len(p.src)/5+1, 1<<17)
	p.elems = make([]Element, 0, elems)
	p.info = make([]elemInfo, 0, elems)
	p.attrs = make([]Attr, 0, attrs)
	p.stack = make([]int32, 0, 16)
}

// error converts the recorded syntax error into an *Error with a position.
func (p *xmlParser) error() *Error {
	e := p.err
	if e == nil {
		e = &syntaxError{offset: p.pos, msg: "malformed XML"}
	}
	if e.offset < 0 {
		return &Error{Messages: []string{e.msg}}
	}
	line, col := position(p.src, e.offset)
	return newError("%s, line %d, column %d", e.msg, line, col)
}

// position converts a byte offset into a 1-based line and column (in runes).
func position(src string, offset int) (line, col int) {
	if offset > len(src) {
		offset = len(src)
	}
	if offset < 0 {
		offset = 0
	}
	before := src[:offset]
	line = strings.Count(before, "\n") + 1
	lineStart := strings.LastIndexByte(before, '\n') + 1
	col = utf8.RuneCountInString(before[lineStart:]) + 1
	return line, col
}

func (p *xmlParser) document() (*document, bool) {
	if strings.HasPrefix(p.src, "\uFEFF") {
		p.pos = len("\uFEFF")
	}
	doc := &document{}
	if rest := p.src[p.pos:]; strings.HasPrefix(rest, "<?xml") && len(rest) > 5 &&
		(isSpace(rest[5]) || strings.HasPrefix(rest[5:], "?>")) {
		if !p.xmlDecl() {
			return nil, false
		}
	}
	sawDoctype, sawRoot := false, false
	for {
		p.skipSpace()
		if p.pos >= len(p.src) {
			if !sawRoot {
				return nil, p.fail(p.pos, "Document is empty")
			}
			break
		}
		rest := p.src[p.pos:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			if !p.comment() {
				return nil, false
			}
		case strings.HasPrefix(rest, "<?"):
			if !p.pi() {
				return nil, false
			}
		case strings.HasPrefix(rest, "<!DOCTYPE"):
			if sawDoctype || sawRoot {
				return nil, p.fail(p.pos, "Extra content at the end of the document")
			}
			sawDoctype = true
			if !p.doctype() {
				return nil, false
			}
		case rest[0] == '<' && !sawRoot:
			doc.rootSpan.start = p.pos
			if !p.rootElement() {
				return nil, false
			}
			doc.rootSpan.end = p.pos
			sawRoot = true
		case sawRoot:
			return nil, p.fail(p.pos, "Extra content at the end of the document")
		default:
			return nil, p.fail(p.pos, "Start tag expected, '<' not found")
		}
	}
	doc.comments = p.comments
	p.link()
	doc.elems = p.elems
	return doc, true
}

// link turns the flat bookkeeping into Parent/Children/Attrs pointers and
// computes line numbers, once all elements exist (the slices no longer move).
func (p *xmlParser) link() {
	n := len(p.elems)
	if n == 0 {
		return
	}
	kids := make([]*Element, n-1)
	next := make([]int32, n) // next free slot in kids for each parent
	off := int32(0)
	for i := 0; i < n; i++ {
		next[i] = off
		off += p.info[i].children
	}
	line, last := 1, 0
	for i := 0; i < n; i++ {
		e := &p.elems[i]
		inf := &p.info[i]
		e.Attrs = p.attrs[inf.attrLo:inf.attrHi:inf.attrHi]
		if c := inf.children; c > 0 {
			lo := next[i]
			e.Children = kids[lo : lo : lo+c]
		}
		if inf.parent >= 0 {
			par := &p.elems[inf.parent]
			e.Parent = par
			par.Children = append(par.Children, e)
		}
		line += strings.Count(p.src[last:e.offset], "\n")
		last = e.offset
		e.Line = line
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace skips XML white space and reports whether there was any.
func (p *xmlParser) skipSpace() bool {
	start := p.pos
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
	return p.pos > start
}

// name scans an XML Name at the current position.
func (p *xmlParser) name() (string, bool) {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c < utf8.RuneSelf {
			if isASCIINameStart(c) || (p.pos > start && isASCIINameChar(c)) {
				p.pos++
				continue
			}
			break
		}
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		if isNameStartRune(r) || (p.pos > start && isNameRune(r)) {
			p.pos += size
			continue
		}
		break
	}
	return p.src[start:p.pos], p.pos > start
}

func isASCIINameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':'
}

func isASCIINameChar(c byte) bool {
	return isASCIINameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.'
}

// isNameStartRune implements NameStartChar of XML 1.0 (fifth edition) for
// non-ASCII runes.
func isNameStartRune(r rune) bool {
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x2FF,
		r >= 0x370 && r <= 0x37D, r >= 0x37F && r <= 0x1FFF, r >= 0x200C && r <= 0x200D,
		r >= 0x2070 && r <= 0x218F, r >= 0x2C00 && r <= 0x2FEF, r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFFD, r >= 0x10000 && r <= 0xEFFFF:
		return true
	}
	return false
}

// isNameRune implements NameChar of XML 1.0 (fifth edition) for non-ASCII runes.
func isNameRune(r rune) bool {
	return isNameStartRune(r) || r == 0xB7 || r >= 0x300 && r <= 0x36F || r >= 0x203F && r <= 0x2040
}

// isXMLChar reports whether r is allowed anywhere in an XML 1.0 document.
func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// checkChars validates that src[from:to] holds only allowed characters.
func (p *xmlParser) checkChars(from, to int) bool {
	ok, _ := p.scanChars(from, to)
	return ok
}

// scanChars validates src[from:to] like checkChars and also reports which
// bytes needing decoding it saw: bit 1 for '&', 2 for '\r', 4 for '\n', 8
// for '\t'.
func (p *xmlParser) scanChars(from, to int) (bool, uint8) {
	var seen uint8
	for i := from; i < to; {
		c := p.src[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '&' {
				switch c {
				case '&':
					seen |= 1
				case '\r':
					seen |= 2
				case '\n':
					seen |= 4
				case '\t':
					seen |= 8
				default:
					return p.fail(i, "Char 0x%X out of allowed range", c), seen
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(p.src[i:to])
		if r == utf8.RuneError && size == 1 {
			return p.fail(i, "Input is not proper UTF-8"), seen
		}
		if !isXMLChar(r) {
			return p.fail(i, "Char 0x%X out of allowed range", r), seen
		}
		i += size
	}
	return true, seen
}

// xmlDecl parses the XML declaration at the very start. Its encoding is
// ignored: the config is always text already.
func (p *xmlParser) xmlDecl() bool {
	start := p.pos
	p.pos += len("<?xml")
	end := strings.Index(p.src[p.pos:], "?>")
	if end < 0 {
		return p.fail(start, "XML declaration not terminated")
	}
	stop := p.pos + end
	order := []string{"version", "encoding", "standalone"}
	next := 0
	for {
		hadSpace := p.skipSpaceUntil(stop)
		if p.pos >= stop {
			break
		}
		if !hadSpace {
			return p.fail(p.pos, "Blank needed in XML declaration")
		}
		nameStart := p.pos
		name, ok := p.name()
		if !ok || p.pos > stop {
			return p.fail(nameStart, "Malformed XML declaration")
		}
		idx := -1
		for i := next; i < len(order); i++ {
			if order[i] == name {
				idx = i
				break
			}
		}
		if idx < 0 || (next == 0 && idx != 0) {
			return p.fail(nameStart, "Malformed XML declaration: unexpected %q", name)
		}
		next = idx + 1
		p.skipSpaceUntil(stop)
		if p.pos >= stop || p.src[p.pos] != '=' {
			return p.fail(p.pos, "Malformed XML declaration: '=' expected")
		}
		p.pos++
		p.skipSpaceUntil(stop)
		if p.pos >= stop || (p.src[p.pos] != '"' && p.src[p.pos] != '\'') {
			return p.fail(p.pos, "Malformed XML declaration: quote expected")
		}
		q := p.src[p.pos]
		vEnd := strings.IndexByte(p.src[p.pos+1:stop], q)
		if vEnd < 0 {
			return p.fail(p.pos, "Malformed XML declaration: value not terminated")
		}
		val := p.src[p.pos+1 : p.pos+1+vEnd]
		if !validDeclValue(name, val) {
			return p.fail(p.pos, "Malformed XML declaration: bad %s %q", name, val)
		}
		p.pos += vEnd + 2
	}
	if next == 0 {
		return p.fail(start, "Malformed declaration expecting version")
	}
	p.pos = stop + 2
	return true
}

func (p *xmlParser) skipSpaceUntil(stop int) bool {
	start := p.pos
	for p.pos < stop && isSpace(p.src[p.pos]) {
		p.pos++
	}
	return p.pos > start
}

func validDeclValue(name, val string) bool {
	switch name {
	case "version":
		if len(val) < 3 || !strings.HasPrefix(val, "1.") {
			return false
		}
		for i := 2; i < len(val); i++ {
			if val[i] < '0' || val[i] > '9' {
				return false
			}
		}
		return true
	case "encoding":
		if val == "" || !(val[0] >= 'a' && val[0] <= 'z' || val[0] >= 'A' && val[0] <= 'Z') {
			return false
		}
		for i := 1; i < len(val); i++ {
			c := val[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return true
	default:
		return val == "yes" || val == "no"
	}
}

// comment parses "<!-- ... -->" and records its span.
func (p *xmlParser) comment() bool {
	start := p.pos
	p.pos += len("<!--")
	end := strings.Index(p.src[p.pos:], "--")
	if end < 0 {
		return p.fail(start, "Comment not terminated")
	}
	if !p.checkChars(p.pos, p.pos+end) {
		return false
	}
	p.pos += end
	if !strings.HasPrefix(p.src[p.pos:], "-->") {
		return p.fail(p.pos, "Double hyphen within comment")
	}
	p.pos += len("-->")
	p.comments = append(p.comments, span{start, p.pos})
	return true
}

// pi parses a processing instruction "<?target data?>".
func (p *xmlParser) pi() bool {
	start := p.pos
	p.pos += len("<?")
	target, ok := p.name()
	if !ok {
		return p.fail(p.pos, "xmlParsePI : no target name")
	}
	if strings.EqualFold(target, "xml") {
		return p.fail(start, "XML declaration allowed only at the start of the document")
	}
	if strings.HasPrefix(p.src[p.pos:], "?>") {
		p.pos += 2
		return true
	}
	if p.pos >= len(p.src) || !isSpace(p.src[p.pos]) {
		return p.fail(p.pos, "ParsePI: PI %s space expected", target)
	}
	end := strings.Index(p.src[p.pos:], "?>")
	if end < 0 {
		return p.fail(start, "ParsePI: PI %s never end", target)
	}
	if !p.checkChars(p.pos, p.pos+end) {
		return false
	}
	p.pos += end + 2
	return true
}

// doctype parses a document type declaration: a name, an optional SYSTEM
// or PUBLIC identifier and an optional internal subset, which is skipped
// (entities declared there are not expanded).
func (p *xmlParser) doctype() bool {
	start := p.pos
	p.pos += len("<!DOCTYPE")
	if !p.skipSpace() {
		return p.fail(p.pos, "Space required after '<!DOCTYPE'")
	}
	if _, ok := p.name(); !ok {
		return p.fail(p.pos, "xmlParseDocTypeDecl : no DOCTYPE name")
	}
	hadSpace := p.skipSpace()
	rest := p.src[p.pos:]
	literals := 0
	switch {
	case hadSpace && strings.HasPrefix(rest, "SYSTEM"):
		p.pos += len("SYSTEM")
		literals = 1
	case hadSpace && strings.HasPrefix(rest, "PUBLIC"):
		p.pos += len("PUBLIC")
		literals = 2
	}
	for i := 0; i < literals; i++ {
		if !p.skipSpace() {
			return p.fail(p.pos, "Space required before the literal of DOCTYPE")
		}
		if !p.quotedLiteral() {
			return false
		}
	}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '[' {
		p.pos++
		if !p.internalSubset() {
			return false
		}
		p.skipSpace()
	}
	if p.pos >= len(p.src) || p.src[p.pos] != '>' {
		return p.fail(start, "DOCTYPE improperly terminated")
	}
	p.pos++
	return true
}

// quotedLiteral skips a quoted literal of a DOCTYPE.
func (p *xmlParser) quotedLiteral() bool {
	if p.pos >= len(p.src) || (p.src[p.pos] != '"' && p.src[p.pos] != '\'') {
		return p.fail(p.pos, "SystemLiteral \" or ' expected")
	}
	q := p.src[p.pos]
	end := strings.IndexByte(p.src[p.pos+1:], q)
	if end < 0 {
		return p.fail(p.pos, "Unfinished System or Public ID \" or ' expected")
	}
	if !p.checkChars(p.pos+1, p.pos+1+end) {
		return false
	}
	p.pos += end + 2
	return true
}

// internalSubset skips the internal subset of a DOCTYPE up to and including
// its closing ']': markup declarations, comments, processing instructions,
// parameter-entity references and white space.
func (p *xmlParser) internalSubset() bool {
	for p.pos < len(p.src) {
		rest := p.src[p.pos:]
		switch c := rest[0]; {
		case c == ']':
			p.pos++
			return true
		case isSpace(c):
			p.pos++
		case strings.HasPrefix(rest, "<!--"):
			if !p.comment() {
				return false
			}
			p.comments = p.comments[:len(p.comments)-1] // not part of the document's comments
		case strings.HasPrefix(rest, "<?"):
			if !p.pi() {
				return false
			}
		case strings.HasPrefix(rest, "<!") && len(rest) > 2 && isASCIINameStart(rest[2]):
			// A markup declaration: skip to its '>' outside quoted literals.
			p.pos += 2
			for {
				if p.pos >= len(p.src) {
					return p.fail(p.pos, "xmlParseInternalSubset: error detected in Markup declaration")
				}
				ch := p.src[p.pos]
				if ch == '"' || ch == '\'' {
					if !p.quotedLiteral() {
						return false
					}
					continue
				}
				if ch == '<' {
					return p.fail(p.pos, "xmlParseInternalSubset: error detected in Markup declaration")
				}
				size := 1
				if ch >= utf8.RuneSelf {
					_, size = utf8.DecodeRuneInString(p.src[p.pos:])
				}
				if !p.checkChars(p.pos, p.pos+size) {
					return false
				}
				p.pos += size
				if ch == '>' {
					break
				}
			}
		case c == '%':
			p.pos++
			if _, ok := p.name(); !ok || p.pos >= len(p.src) || p.src[p.pos] != ';' {
				return p.fail(p.pos, "PEReference: no name")
			}
			p.pos++
		default:
			return p.fail(p.pos, "xmlParseInternalSubset: error detected in Markup declaration")
		}
	}
	return p.fail(p.pos, "xmlParseInternalSubset: error detected in Markup declaration")
}

// rootElement parses the root element and everything inside it.
func (p *xmlParser) rootElement() bool {
	if !p.startTag(-1) {
		return false
	}
	for len(p.stack) > 0 {
		top := p.stack[len(p.stack)-1]
		if p.pos >= len(p.src) {
			e := &p.elems[top]
			line, _ := position(p.src, e.offset)
			return p.fail(p.pos, "Premature end of data in tag %s line %d", e.Tag, line)
		}
		if p.src[p.pos] != '<' {
			if !p.text(top) {
				return false
			}
			continue
		}
		rest := p.src[p.pos:]
		switch {
		case strings.HasPrefix(rest, "</"):
			if !p.endTag(top) {
				return false
			}
		case strings.HasPrefix(rest, "<!--"):
			p.childNode(top)
			if !p.comment() {
				return false
			}
		case strings.HasPrefix(rest, "<![CDATA["):
			if !p.cdata(top) {
				return false
			}
		case strings.HasPrefix(rest, "<?"):
			p.childNode(top)
			if !p.pi() {
				return false
			}
		case strings.HasPrefix(rest, "<!"):
			return p.fail(p.pos, "StartTag: invalid element name")
		default:
			p.childNode(top)
			if !p.startTag(top) {
				return false
			}
		}
	}
	return true
}

// startTag parses "<name attr='v' ...>" or the empty-element form and
// pushes the element unless it is empty.
func (p *xmlParser) startTag(parent int32) bool {
	lt := p.pos
	p.pos++
	tag, ok := p.name()
	if !ok {
		return p.fail(p.pos, "StartTag: invalid element name")
	}
	if len(p.elems) >= MaxElements {
		p.err = &syntaxError{offset: -1, msg: fmt.Sprintf("label config has too many elements: the limit is %d", MaxElements)}
		return false
	}
	if len(p.stack) >= MaxDepth {
		p.err = &syntaxError{offset: -1, msg: fmt.Sprintf("label config nests elements too deeply: the limit is %d levels (tag %s, line %d)",
			MaxDepth, tag, lineOf(p.src, lt))}
		return false
	}
	idx := int32(len(p.elems))
	p.elems = append(p.elems, Element{Tag: tag, offset: lt})
	lo := int32(len(p.attrs))
	p.info = append(p.info, elemInfo{parent: parent, attrLo: lo})
	if parent >= 0 {
		p.info[parent].children++
	}
	for {
		hadSpace := p.skipSpace()
		if p.pos >= len(p.src) {
			return p.fail(lt, "Couldn't find end of Start Tag %s", tag)
		}
		switch c := p.src[p.pos]; c {
		case '>':
			p.pos++
			p.info[idx].attrHi = int32(len(p.attrs))
			if !p.checkNamespaces(lt, tag, lo) {
				return false
			}
			p.stack = append(p.stack, idx)
			return true
		case '/':
			if !strings.HasPrefix(p.src[p.pos:], "/>") {
				return p.fail(p.pos, "Couldn't find end of Start Tag %s", tag)
			}
			p.pos += 2
			p.info[idx].attrHi = int32(len(p.attrs))
			if !p.checkNamespaces(lt, tag, lo) {
				return false
			}
			p.popNamespaces(len(p.stack) + 1)
			return true
		}
		if !hadSpace {
			return p.fail(p.pos, "attributes construct error in tag %s", tag)
		}
		if !p.attribute(tag, lo) {
			return false
		}
	}
}

func lineOf(src string, offset int) int {
	line, _ := position(src, offset)
	return line
}

// attribute parses name="value" inside a start tag.
func (p *xmlParser) attribute(tag string, lo int32) bool {
	nameAt := p.pos
	name, ok := p.name()
	if !ok {
		return p.fail(p.pos, "attributes construct error in tag %s", tag)
	}
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != '=' {
		return p.fail(p.pos, "Specification mandates value for attribute %s", name)
	}
	p.pos++
	p.skipSpace()
	if p.pos >= len(p.src) || (p.src[p.pos] != '"' && p.src[p.pos] != '\'') {
		return p.fail(p.pos, "AttValue: \" or ' expected")
	}
	q := p.src[p.pos]
	p.pos++
	start := p.pos
	end := strings.IndexByte(p.src[start:], q)
	if end < 0 {
		return p.fail(start-1, "AttValue: ' expected")
	}
	raw := p.src[start : start+end]
	if i := strings.IndexByte(raw, '<'); i >= 0 {
		return p.fail(start+i, "Unescaped '<' not allowed in attributes values")
	}
	ok, seen := p.scanChars(start, start+end)
	if !ok {
		return false
	}
	val := raw
	if seen != 0 {
		var bad *decodeError
		if val, bad = decodeAttr(raw, true); bad != nil {
			return p.fail(start+bad.offset, "%s", bad.msg)
		}
	}
	p.pos = start + end + 1
	// Duplicate attribute names are an error in XML.
	n := int32(len(p.attrs)) - lo
	if n < 16 {
		for i := lo; i < int32(len(p.attrs)); i++ {
			if p.attrs[i].Name == name {
				return p.fail(nameAt, "Attribute %s redefined", name)
			}
		}
	} else {
		if n == 16 {
			if p.seen == nil {
				p.seen = make(map[string]struct{})
			}
			clear(p.seen)
			for i := lo; i < int32(len(p.attrs)); i++ {
				p.seen[p.attrs[i].Name] = struct{}{}
			}
		}
		if _, dup := p.seen[name]; dup {
			return p.fail(nameAt, "Attribute %s redefined", name)
		}
		p.seen[name] = struct{}{}
	}
	p.attrs = append(p.attrs, Attr{Name: name, Value: val, raw: raw, hasBreak: seen&6 != 0})
	return true
}

// endTag parses "</name>" and pops the element.
func (p *xmlParser) endTag(top int32) bool {
	p.pos += 2
	at := p.pos
	name, ok := p.name()
	if !ok {
		return p.fail(p.pos, "expected '>'")
	}
	e := &p.elems[top]
	if name != e.Tag {
		return p.fail(at, "Opening and ending tag mismatch: %s line %d and %s", e.Tag, lineOf(p.src, e.offset), name)
	}
	p.skipSpace()
	if p.pos >= len(p.src) || p.src[p.pos] != '>' {
		return p.fail(p.pos, "expected '>'")
	}
	p.pos++
	p.flushText()
	p.popNamespaces(len(p.stack))
	p.stack = p.stack[:len(p.stack)-1]
	return true
}

// checkNamespaces applies the namespace rules a namespace-aware parser such
// as 0.8.1's lxml enforces: names are QNames (at most one colon, with both
// parts non-empty), and every prefix is declared by xmlns:prefix on the
// element or an ancestor ("xml" is predeclared). Declarations made by the
// element are recorded at its depth (the current stack length + 1).
func (p *xmlParser) checkNamespaces(lt int, tag string, lo int32) bool {
	attrs := p.attrs[lo:]
	colon := strings.IndexByte(tag, ':') >= 0
	for i := range attrs {
		if strings.IndexByte(attrs[i].Name, ':') >= 0 {
			colon = true
			break
		}
	}
	if !colon {
		return true // the common case: no prefixes anywhere
	}
	depth := len(p.stack) + 1
	for i := range attrs {
		prefix, local, ok := splitQName(attrs[i].Name)
		if !ok {
			return p.fail(lt, "Failed to parse QName '%s'", attrs[i].Name)
		}
		if prefix == "xmlns" {
			if local == "xmlns" || local == "xml" && attrs[i].Value != "http://www.w3.org/XML/1998/namespace" {
				return p.fail(lt, "xml namespace prefix %s cannot be redeclared", local)
			}
			if attrs[i].Value == "" {
				return p.fail(lt, "xmlns:%s: Empty XML namespace is not allowed", local)
			}
			p.ns = append(p.ns, nsBinding{depth: depth, prefix: local})
		}
	}
	prefix, local, ok := splitQName(tag)
	if !ok || prefix == "xmlns" {
		return p.fail(lt, "Failed to parse QName '%s'", tag)
	}
	if prefix != "" && !p.declared(prefix) {
		return p.fail(lt, "Namespace prefix %s on %s is not defined", prefix, local)
	}
	for i := range attrs {
		prefix, local, _ := splitQName(attrs[i].Name)
		if prefix != "" && prefix != "xmlns" && !p.declared(prefix) {
			return p.fail(lt, "Namespace prefix %s for %s on %s is not defined", prefix, local, tag)
		}
	}
	return true
}

// splitQName splits prefix:local; ok is false for a name that is not a QName.
func splitQName(name string) (prefix, local string, ok bool) {
	i := strings.IndexByte(name, ':')
	if i < 0 {
		return "", name, true
	}
	prefix, local = name[:i], name[i+1:]
	if prefix == "" || local == "" || strings.IndexByte(local, ':') >= 0 || !validName(local) || !validName(prefix) {
		return "", "", false
	}
	return prefix, local, true
}

// declared reports whether a namespace prefix is in scope.
func (p *xmlParser) declared(prefix string) bool {
	if prefix == "xml" {
		return true
	}
	for i := len(p.ns) - 1; i >= 0; i-- {
		if p.ns[i].prefix == prefix {
			return true
		}
	}
	return false
}

// popNamespaces drops the declarations made at depth or deeper.
func (p *xmlParser) popNamespaces(depth int) {
	for len(p.ns) > 0 && p.ns[len(p.ns)-1].depth >= depth {
		p.ns = p.ns[:len(p.ns)-1]
	}
}

// childNode records that element top got a child node: its leading text is
// complete.
func (p *xmlParser) childNode(top int32) {
	if !p.info[top].childNodeSeen {
		p.flushText()
		p.info[top].childNodeSeen = true
	}
}

// addText appends a piece of leading text to element top.
func (p *xmlParser) addText(top int32, s string) {
	if p.info[top].childNodeSeen || s == "" {
		return
	}
	if p.textOwner != top {
		p.flushText()
		p.textOwner, p.textFirst, p.textMulti = top, s, false
		return
	}
	if !p.textMulti {
		p.textBuf = append(p.textBuf[:0], p.textFirst...)
		p.textMulti = true
	}
	p.textBuf = append(p.textBuf, s...)
}

// flushText stores the gathered leading text in its element.
func (p *xmlParser) flushText() {
	if p.textOwner < 0 {
		return
	}
	if p.textMulti {
		p.elems[p.textOwner].Text = string(p.textBuf)
	} else {
		p.elems[p.textOwner].Text = p.textFirst
	}
	p.textOwner = -1
}

// text scans character data up to the next '<' and, while the element has
// no child node yet, appends it to the element's leading text.
func (p *xmlParser) text(top int32) bool {
	start := p.pos
	end := strings.IndexByte(p.src[start:], '<')
	if end < 0 {
		end = len(p.src)
	} else {
		end += start
	}
	seg := p.src[start:end]
	if i := strings.Index(seg, "]]>"); i >= 0 {
		return p.fail(start+i, "Sequence ']]>' not allowed in content")
	}
	ok, seen := p.scanChars(start, end)
	if !ok {
		return false
	}
	val := seg
	if seen&3 != 0 {
		var bad *decodeError
		if val, bad = decodeText(seg); bad != nil {
			return p.fail(start+bad.offset, "%s", bad.msg)
		}
	}
	p.pos = end
	p.addText(top, val)
	return true
}

// cdata parses a CDATA section; its content counts as text.
func (p *xmlParser) cdata(top int32) bool {
	start := p.pos
	p.pos += len("<![CDATA[")
	end := strings.Index(p.src[p.pos:], "]]>")
	if end < 0 {
		return p.fail(start, "CData section not finished")
	}
	if !p.checkChars(p.pos, p.pos+end) {
		return false
	}
	content := p.src[p.pos : p.pos+end]
	p.pos += end + 3
	p.addText(top, normalizeNewlines(content))
	return true
}

func normalizeNewlines(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// decodeError is a bad reference at an offset of the decoded string.
type decodeError struct {
	offset int
	msg    string
}

// decodeText decodes character data: references are expanded and line ends
// normalised to "\n". It assumes the characters were validated.
func decodeText(s string) (string, *decodeError) {
	if !hasAnyByte(s, "&\r") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '&':
			rep, n, err := reference(s, i)
			if err != nil {
				return "", err
			}
			b.WriteString(rep)
			i += n
		case '\r':
			b.WriteByte('\n')
			i++
			if i < len(s) && s[i] == '\n' {
				i++
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// decodeAttr decodes an attribute value. With line semantics raw line
// breaks are deleted (what parsing the line config gives); otherwise XML
// attribute-value normalisation turns each raw line end into a space. Raw
// tabs become spaces in both cases.
func decodeAttr(s string, line bool) (string, *decodeError) {
	if !hasAnyByte(s, "&\r\n\t") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '&':
			rep, n, err := reference(s, i)
			if err != nil {
				return "", err
			}
			b.WriteString(rep)
			i += n
		case '\r', '\n':
			i++
			if c == '\r' && i < len(s) && s[i] == '\n' {
				i++
			}
			if !line {
				b.WriteByte(' ')
			}
		case '\t':
			b.WriteByte(' ')
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// reference decodes the entity or character reference starting at s[i]
// ('&') and returns the replacement and the length consumed.
func reference(s string, i int) (string, int, *decodeError) {
	semi := strings.IndexByte(s[i:], ';')
	if semi < 0 {
		return "", 0, &decodeError{i, "EntityRef: expecting ';'"}
	}
	body := s[i+1 : i+semi]
	n := semi + 1
	if strings.HasPrefix(body, "#") {
		digits, base := body[1:], 10
		if strings.HasPrefix(digits, "x") {
			digits, base = digits[1:], 16
		}
		if digits == "" {
			return "", 0, &decodeError{i, "CharRef: invalid decimal value"}
		}
		var v rune
		for j := 0; j < len(digits); j++ {
			d := rune(-1)
			switch c := digits[j]; {
			case c >= '0' && c <= '9':
				d = rune(c - '0')
			case base == 16 && c >= 'a' && c <= 'f':
				d = rune(c-'a') + 10
			case base == 16 && c >= 'A' && c <= 'F':
				d = rune(c-'A') + 10
			}
			if d < 0 {
				return "", 0, &decodeError{i, "CharRef: invalid value"}
			}
			v = v*rune(base) + d
			if v > 0x10FFFF {
				return "", 0, &decodeError{i, "CharRef: invalid xmlChar value"}
			}
		}
		if !isXMLChar(v) {
			return "", 0, &decodeError{i, fmt.Sprintf("xmlParseCharRef: invalid xmlChar value %d", v)}
		}
		return string(v), n, nil
	}
	switch body {
	case "lt":
		return "<", n, nil
	case "gt":
		return ">", n, nil
	case "amp":
		return "&", n, nil
	case "apos":
		return "'", n, nil
	case "quot":
		return "\"", n, nil
	}
	if body == "" || !validName(body) {
		return "", 0, &decodeError{i, "xmlParseEntityRef: no name"}
	}
	return "", 0, &decodeError{i, fmt.Sprintf("Entity '%s' not defined", body)}
}

// hasAnyByte reports whether s contains any of the ASCII bytes in set; a
// plain loop beats strings.IndexAny on the short values of a config.
func hasAnyByte(s, set string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		for j := 0; j < len(set); j++ {
			if c == set[j] {
				return true
			}
		}
	}
	return false
}

func validName(s string) bool {
	for i, r := range s {
		if r < utf8.RuneSelf {
			if !(isASCIINameStart(byte(r)) || i > 0 && isASCIINameChar(byte(r))) {
				return false
			}
			continue
		}
		if !(isNameStartRune(r) || i > 0 && isNameRune(r)) {
			return false
		}
	}
	return s != ""
}
