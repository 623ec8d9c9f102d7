package frontend

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// The widget's stylesheet (main.css, 1.3 MB) holds Ant Design twice: once
// with the class names the widget's components use (ant-btn, ...), and once
// more compiled as a CSS module, where every class name carries the prefix
// "antd_" and a hash (antd_ant-btn__3C5kT). Nothing in the widget's script
// names one of those classes, so the second copy can never match an
// element; yet a browser parses it and builds rule sets from it on every
// page load, which is a good part of the time before the widget can start.
// The pages therefore link EditorLeanCSS: main.css without those rules,
// derived from the embedded file when the server first needs it. main.css
// itself is still served as published.
//
// The first copy styles every component of Ant Design, while the widget's
// script holds only some of them: it has no date picker, upload, steps,
// drawer, cascader and so on. A component's class names all start with
// "ant-" and the component's own prefix ("ant-picker-dropdown"), which its
// code passes as a string ("picker"); where the script holds neither that
// string nor "ant-picker", nothing on the page can carry such a class, and
// the lean copy leaves those rules out too. So it does with the rules for
// right-to-left layouts ("ant-btn-rtl"): Ant Design adds those classes only
// where a ConfigProvider sets the direction "rtl", and the script only
// ever compares with that string.

// EditorLeanCSS is the path inside Static() at which the server offers the
// lean copy of EditorCSS (see LeanEditorCSS).
const EditorLeanCSS = EditorDir + "/css/main.lean.css"

// unusedClassPrefix starts every class name of the CSS-module copy of Ant
// Design in the widget's stylesheet.
const unusedClassPrefix = "antd_"

// antdPrefixes are the class-name prefixes of Ant Design's components
// (after "ant-") that its stylesheet styles: a component's classes are its
// prefix or start with the prefix and "-". Prefixes of two words come
// first where a component of one word shares their first word.
var antdPrefixes = []string{
	"back-top", "input-number", "page-header", "select-tree", "tree-select",
	"affix", "alert", "anchor", "avatar", "badge", "breadcrumb", "btn", "calendar",
	"card", "carousel", "cascader", "checkbox", "col", "collapse", "comment",
	"descriptions", "divider", "drawer", "dropdown", "empty", "form", "image",
	"input", "layout", "list", "mention", "mentions", "menu", "message", "modal",
	"notification", "pagination", "picker", "popconfirm", "popover", "progress",
	"radio", "rate", "result", "ribbon", "row", "select", "skeleton", "slider",
	"space", "spin", "statistic", "steps", "switch", "table", "tabs", "tag", "time",
	"timeline", "tooltip", "transfer", "tree", "typography", "upload",
}

// LeanEditorCSS returns the content for EditorLeanCSS: the widget's
// stylesheet without the rules that need a class no element of a page can
// have (editorClassUnused, DropRules). It returns nil when the bundle is
// missing.
func LeanEditorCSS() []byte {
	css, err := fs.ReadFile(Static(), EditorCSS)
	if err != nil {
		return nil
	}
	unused := editorClassUnused()
	if unused == nil {
		return css
	}
	return DropRules(css, unused)
}

// editorClassUnused returns the test of LeanEditorCSS: UnusedEditorClasses
// of the widget's script and of our own scripts, styles and templates. It
// returns nil when the script is missing.
func editorClassUnused() func(class []byte) bool {
	st := Static()
	js, err := fs.ReadFile(st, EditorJS)
	if err != nil {
		return nil
	}
	var ours [][]byte
	add := func(fsys fs.FS, exts ...string) {
		_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && slices.Contains(exts, path.Ext(p)) {
				if b, err := fs.ReadFile(fsys, p); err == nil {
					ours = append(ours, b)
				}
			}
			return nil
		})
	}
	if app, err := fs.Sub(st, "static/app"); err == nil {
		add(app, ".js", ".css")
	}
	add(Templates(), ".html")
	return UnusedEditorClasses(js, ours...)
}

// UnusedEditorClasses returns the test LeanEditorCSS drops rules by, given
// the widget's script js and our own files: it is true for a class name
// of the CSS-module copy ("antd_..."), for the classes of an Ant Design
// component whose prefix the script does not name (as "prefix" or
// 'prefix') and no file names as "ant-prefix", and for the right-to-left
// classes of Ant Design ("ant-...-rtl") when the script uses the string
// "rtl" only in comparisons and no file names such a class whole.
func UnusedEditorClasses(js []byte, ours ...[]byte) func(class []byte) bool {
	named := func(s string) bool {
		return bytes.Contains(js, []byte(s)) || slices.ContainsFunc(ours, func(b []byte) bool { return bytes.Contains(b, []byte(s)) })
	}
	moduleCopy := !named(unusedClassPrefix)
	// The tests below read each text once (two megabytes of script, and
	// some sixty prefixes to look for each way).
	jsIdx := indexText(js, true)
	idx := []textIndex{jsIdx}
	for _, b := range ours {
		idx = append(idx, indexText(b, false))
	}
	absent := map[string]bool{}
	for _, p := range antdPrefixes {
		absent[p] = !jsIdx.quoted[p] && !slices.ContainsFunc(idx, func(x textIndex) bool { return x.namesAnt(p) })
	}
	rtl := onlyCompared(js, `"rtl"`) && onlyCompared(js, `'rtl'`) && !slices.ContainsFunc(idx, func(x textIndex) bool { return x.rtlClass })
	return classTest(moduleCopy, rtl, absent)
}

// classTest is the test UnusedEditorClasses returns, given what it found:
// whether the CSS-module copy is unused, whether the right-to-left
// classes are, and which component prefixes are absent.
func classTest(moduleCopy, rtl bool, absent map[string]bool) func(class []byte) bool {
	return func(class []byte) bool {
		if moduleCopy && bytes.HasPrefix(class, []byte(unusedClassPrefix)) {
			return true
		}
		rest, ok := bytes.CutPrefix(class, []byte("ant-"))
		if !ok {
			return false
		}
		if rtl && bytes.HasSuffix(rest, []byte("-rtl")) {
			return true
		}
		for _, p := range antdPrefixes {
			if r, ok := bytes.CutPrefix(rest, []byte(p)); ok && (len(r) == 0 || r[0] == '-') {
				return absent[p]
			}
		}
		return false
	}
}

// textIndex is what UnusedEditorClasses asks of a text, read in one pass.
type textIndex struct {
	// quoted holds w for every "w" and 'w' in the text where w is a
	// word of class-name characters (a-z, 0-9 and -).
	quoted map[string]bool
	// antRuns holds, for every "ant-" in the text, the longest run of
	// class-name characters that follows it: the text holds "ant-" + p,
	// for p of those characters, exactly when a run starts with p.
	antRuns map[string]bool
	// rtlClass tells whether rtlClass matches somewhere in the text.
	rtlClass bool
}

// indexText reads text for a textIndex; quoted words are gathered only
// with quotes set.
func indexText(text []byte, quotes bool) textIndex {
	x := textIndex{quoted: map[string]bool{}, antRuns: map[string]bool{}}
	if quotes {
		for i := 0; i < len(text); i++ {
			q := text[i]
			if q != '"' && q != '\'' {
				continue
			}
			j := i + 1
			for j < len(text) && j-i <= maxQuotedWord && isClassChar(text[j]) {
				j++
			}
			if j > i+1 && j < len(text) && text[j] == q {
				x.quoted[string(text[i+1:j])] = true
			}
		}
	}
	for i := 0; ; {
		k := bytes.Index(text[i:], []byte("ant-"))
		if k < 0 {
			break
		}
		at := i + k
		j := at + len("ant-")
		for j < len(text) && isClassChar(text[j]) {
			j++
		}
		x.antRuns[string(text[at+len("ant-"):j])] = true
		// A match of rtlClass starts with "ant-" and ends within the
		// run, or at its end where the next byte decides \b.
		if !x.rtlClass && rtlClass.Match(text[at:min(j+1, len(text))]) {
			x.rtlClass = true
		}
		i = at + 1
	}
	return x
}

// maxQuotedWord bounds the quoted words indexText gathers: longer than any
// component prefix.
const maxQuotedWord = 32

func isClassChar(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' }

// namesAnt tells whether the text holds "ant-" + p.
func (x textIndex) namesAnt(p string) bool {
	for r := range x.antRuns {
		if strings.HasPrefix(r, p) {
			return true
		}
	}
	return false
}

// rtlClass matches the name of a right-to-left class of Ant Design.
var rtlClass = regexp.MustCompile(`ant-[a-z0-9-]*-rtl\b`)

// onlyCompared reports whether every occurrence of lit in js is an operand
// of === or !== (so the script never hands the value on).
func onlyCompared(js []byte, lit string) bool {
	for i := 0; ; {
		j := bytes.Index(js[i:], []byte(lit))
		if j < 0 {
			return true
		}
		at := i + j
		before, after := js[max(0, at-3):at], js[at+len(lit):]
		if !bytes.HasSuffix(before, []byte("===")) && !bytes.HasSuffix(before, []byte("!==")) &&
			!bytes.HasPrefix(after, []byte("===")) && !bytes.HasPrefix(after, []byte("!==")) {
			return false
		}
		i = at + len(lit)
	}
}

// DropClassRules returns the stylesheet css without the selectors that need
// a class whose name starts with prefix (DropRules).
func DropClassRules(css []byte, prefix string) []byte {
	return DropRules(css, func(class []byte) bool { return bytes.HasPrefix(class, []byte(prefix)) })
}

// DropRules returns the stylesheet css without the selectors that can only
// match an element with a class for which unused is true, that is with
// such a class selector outside any parentheses (so ":not(.x)" keeps its
// selector), without the style rules left with no selector, and without
// the @media and @supports blocks left empty. Everything else stays as it
// is, with two exceptions that change nothing for a browser: comments go,
// except those that start with "/*!" (licence notes), and characters beyond
// ASCII become CSS escapes, so that the browser can keep the text in one
// byte per character.
func DropRules(css []byte, unused func(class []byte) bool) []byte {
	p := cssPruner{src: css, unused: unused}
	out := p.rules(0, len(css), make([]byte, 0, len(css)))
	return asciiCSS(out)
}

type cssPruner struct {
	src    []byte
	unused func(class []byte) bool
}

// rules copies the rules in src[i:end] to out, dropping what cannot match.
func (p *cssPruner) rules(i, end int, out []byte) []byte {
	s := p.src
	for {
		// Whitespace and comments between rules.
		for i < end {
			if isCSSSpace(s[i]) {
				i++
				continue
			}
			if c := p.comment(i, end); c > i {
				if i+2 < end && s[i+2] == '!' {
					out = append(out, s[i:c]...)
				}
				i = c
				continue
			}
			break
		}
		if i >= end {
			return out
		}
		if s[i] == '}' { // one too many: keep it as it is
			out = append(out, '}')
			i++
			continue
		}
		stop := p.scan(i, end, "{;}")
		if stop >= end || s[stop] == '}' {
			// A rule without a block, cut short: keep it as it is.
			out = append(out, s[i:stop]...)
			i = stop
			continue
		}
		if stop == i { // a stray ';' or a block without a prelude
			if s[i] == ';' {
				i++
				continue
			}
			next := min(p.scan(i+1, end, "}")+1, end)
			out = append(out, s[i:next]...)
			i = next
			continue
		}
		prelude := s[i:stop]
		if s[stop] == ';' { // @charset, @import, @namespace
			out = append(out, s[i:stop+1]...)
			i = stop + 1
			continue
		}
		blockEnd := p.scan(stop+1, end, "}")
		next := min(blockEnd+1, end)
		switch {
		case isGroupRule(prelude):
			inner := p.rules(stop+1, blockEnd, nil)
			if len(bytes.TrimSpace(inner)) > 0 {
				out = append(out, prelude...)
				out = append(out, '{')
				out = append(out, inner...)
				out = append(out, '}')
			}
		case prelude[0] == '@': // @keyframes, @font-face, @page, ...
			out = append(out, s[i:next]...)
		default:
			kept := 0
			for _, sel := range p.split(prelude) {
				if p.needsClass(sel) {
					continue
				}
				if kept > 0 {
					out = append(out, ',')
				}
				out = append(out, bytes.TrimSpace(sel)...)
				kept++
			}
			if kept > 0 {
				out = append(out, s[stop:next]...)
			}
		}
		i = next
	}
}

// scan returns the index of the first byte of stops in src[i:end] that is
// outside strings, comments, parentheses, brackets and nested blocks, or
// end.
func (p *cssPruner) scan(i, end int, stops string) int {
	s := p.src
	depth := 0
	for i < end {
		c := s[i]
		if !cssSpecial[c] {
			i++
			continue
		}
		if depth == 0 && strings.IndexByte(stops, c) >= 0 {
			return i
		}
		switch c {
		case '\\':
			i += 2
			continue
		case '"', '\'':
			i = p.str(i, end)
			continue
		case '/':
			if e := p.comment(i, end); e > i {
				i = e
				continue
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			if depth > 0 {
				depth--
			}
		}
		i++
	}
	return end
}

// cssSpecial marks the bytes that scan looks at: stops and the bytes that
// open or close strings, comments, escapes and nested parts.
var cssSpecial = func() (t [256]bool) {
	for _, c := range []byte(`\"'/()[]{},;.`) {
		t[c] = true
	}
	return t
}()

// comment returns the index after the comment that starts at i, or i.
func (p *cssPruner) comment(i, end int) int {
	s := p.src
	if i+1 >= end || s[i] != '/' || s[i+1] != '*' {
		return i
	}
	if e := bytes.Index(s[i+2:end], []byte("*/")); e >= 0 {
		return i + 2 + e + 2
	}
	return end
}

// str returns the index after the string that starts at i.
func (p *cssPruner) str(i, end int) int {
	s := p.src
	q := s[i]
	for i++; i < end; i++ {
		switch s[i] {
		case '\\':
			i++
		case q, '\n':
			return i + 1
		}
	}
	return end
}

// split cuts a selector list at the commas outside parentheses, brackets
// and strings.
func (p *cssPruner) split(list []byte) [][]byte {
	sub := cssPruner{src: list, unused: p.unused}
	var out [][]byte
	for i := 0; ; {
		c := sub.scan(i, len(list), ",")
		out = append(out, list[i:c])
		if c >= len(list) {
			return out
		}
		i = c + 1
	}
}

// needsClass reports whether the selector has a class selector of an
// unused class outside parentheses, brackets, strings and comments. The
// class name is taken as written, escapes included.
func (p *cssPruner) needsClass(sel []byte) bool {
	sub := cssPruner{src: sel, unused: p.unused}
	for i := 0; i < len(sel); {
		c := sub.scan(i, len(sel), ".")
		if c >= len(sel) {
			return false
		}
		e := c + 1
		for e < len(sel) && (isNameByte(sel[e]) || sel[e] == '\\') {
			if sel[e] == '\\' {
				e++
			}
			e++
		}
		if p.unused(sel[c+1 : min(e, len(sel))]) {
			return true
		}
		i = c + 1
	}
	return false
}

// isNameByte reports whether c may be part of a CSS name unescaped.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c >= 0x80
}

// isGroupRule reports whether the prelude opens a block of rules.
func isGroupRule(prelude []byte) bool {
	for _, name := range []string{"@media", "@supports"} {
		if bytes.HasPrefix(prelude, []byte(name)) && len(prelude) > len(name) &&
			(isCSSSpace(prelude[len(name)]) || prelude[len(name)] == '(') {
			return true
		}
	}
	return false
}

func isCSSSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// asciiCSS writes every character beyond ASCII as a CSS escape ("→" is
// "\2192 "), which means the same in strings, names and selectors.
func asciiCSS(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	if i == len(b) {
		return b
	}
	out := append(make([]byte, 0, len(b)+64), b[:i]...)
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		if r < utf8.RuneSelf || r == utf8.RuneError && n <= 1 {
			out = append(out, b[i])
			i++
			continue
		}
		out = fmt.Appendf(out, `\%x `, r)
		i += n
	}
	return out
}
