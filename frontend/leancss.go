package frontend

import (
	"bytes"
	"fmt"
	"io/fs"
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

// EditorLeanCSS is the path inside Static() at which the server offers the
// lean copy of EditorCSS (see LeanEditorCSS).
const EditorLeanCSS = EditorDir + "/css/main.lean.css"

// unusedClassPrefix starts every class name of the CSS-module copy of Ant
// Design in the widget's stylesheet.
const unusedClassPrefix = "antd_"

// LeanEditorCSS returns the content for EditorLeanCSS: the widget's
// stylesheet without the rules that need a class starting with "antd_"
// (DropClassRules). Should the widget's script ever name such a class, it
// returns the stylesheet whole. It returns nil when the bundle is missing.
func LeanEditorCSS() []byte {
	st := Static()
	css, err := fs.ReadFile(st, EditorCSS)
	if err != nil {
		return nil
	}
	js, err := fs.ReadFile(st, EditorJS)
	if err != nil || bytes.Contains(js, []byte(unusedClassPrefix)) {
		return css
	}
	return DropClassRules(css, unusedClassPrefix)
}

// DropClassRules returns the stylesheet css without the selectors that can
// only match an element with a class whose name starts with prefix, that is
// a class selector of that kind outside any parentheses (so ":not(.x)"
// keeps its selector), without the style rules left with no selector, and
// without the @media and @supports blocks left empty. Everything else stays
// as it is, with two exceptions that change nothing for a browser: comments
// go, except those that start with "/*!" (licence notes), and characters
// beyond ASCII become CSS escapes, so that the browser can keep the text in
// one byte per character.
func DropClassRules(css []byte, prefix string) []byte {
	p := cssPruner{src: css, prefix: []byte(prefix)}
	out := p.rules(0, len(css), make([]byte, 0, len(css)))
	return asciiCSS(out)
}

type cssPruner struct {
	src    []byte
	prefix []byte
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
	sub := cssPruner{src: list, prefix: p.prefix}
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

// needsClass reports whether the selector has a class selector starting
// with the prefix outside parentheses, brackets, strings and comments.
func (p *cssPruner) needsClass(sel []byte) bool {
	sub := cssPruner{src: sel, prefix: p.prefix}
	for i := 0; i < len(sel); {
		c := sub.scan(i, len(sel), ".")
		if c >= len(sel) {
			return false
		}
		if bytes.HasPrefix(sel[c+1:], p.prefix) {
			return true
		}
		i = c + 1
	}
	return false
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
