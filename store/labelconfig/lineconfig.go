package labelconfig

import (
	"strings"
)

// FullConfig returns the full config of config.md §2: the text without XML
// comments. A text that contains no comment (or is not well-formed XML) is
// returned unchanged, byte for byte, XML declaration included. Otherwise the
// root element is returned with every comment removed (a comment alone on its
// line takes the line with it); anything outside the root element (XML
// declaration, DOCTYPE, comments, processing instructions) is dropped.
func FullConfig(text string) string {
	if !strings.Contains(text, "<!--") {
		return text
	}
	doc, err := parseXML(text)
	if err != nil {
		return text
	}
	return fullFromDoc(text, doc)
}

// LineConfig returns the line config of config.md §2: FullConfig(text) with
// every "\n" and "\r" deleted. As the one permitted deviation from 0.8.1, a
// run of line breaks that is the only separator between two attributes (or
// between the tag name and the first attribute) becomes a single space, so
// `<Choice\nvalue="A"/>` gives `<Choice value="A"/>` instead of gluing the
// names together.
func LineConfig(text string) string {
	return stripLineBreaks(FullConfig(text))
}

// fullFromDoc removes comments from the root element's text.
func fullFromDoc(raw string, doc *document) string {
	if len(doc.comments) == 0 {
		return raw
	}
	lo, hi := doc.rootSpan.start, doc.rootSpan.end
	var b strings.Builder
	b.Grow(hi - lo)
	at := lo
	for _, cm := range doc.comments {
		if cm.start < lo || cm.end > hi {
			continue // outside the root: dropped with the rest of the prolog
		}
		start, end := cm.start, cm.end
		// A comment alone on its line(s) takes the whole line with it.
		ls := start
		for ls > at && (raw[ls-1] == ' ' || raw[ls-1] == '\t') {
			ls--
		}
		if ls > lo && raw[ls-1] == '\n' {
			te := end
			for te < hi && (raw[te] == ' ' || raw[te] == '\t') {
				te++
			}
			switch {
			case strings.HasPrefix(raw[te:hi], "\r\n"):
				start, end = ls, te+2
			case strings.HasPrefix(raw[te:hi], "\n"):
				start, end = ls, te+1
			}
		}
		b.WriteString(raw[at:start])
		at = end
	}
	b.WriteString(raw[at:hi])
	return b.String()
}

// lexer states of stripLineBreaks.
const (
	lxText = iota
	lxTag
	lxQuoted
	lxComment
	lxCDATA
	lxPI
	lxDoctype
)

// stripLineBreaks deletes every "\r" and "\n" from s, except that a run of
// line breaks separating two names/attributes inside markup becomes one
// space. It works on any input, well-formed or not.
func stripLineBreaks(s string) string {
	if strings.IndexAny(s, "\r\n") < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	state := lxText
	var quote byte
	subset := false // inside the internal subset of a DOCTYPE
	for i := 0; i < len(s); {
		c := s[i]
		switch state {
		case lxText:
			if c == '<' {
				rest := s[i:]
				switch {
				case strings.HasPrefix(rest, "<!--"):
					b = append(b, "<!--"...)
					i += 4
					state = lxComment
					continue
				case strings.HasPrefix(rest, "<![CDATA["):
					b = append(b, "<![CDATA["...)
					i += 9
					state = lxCDATA
					continue
				case strings.HasPrefix(rest, "<?"):
					b = append(b, "<?"...)
					i += 2
					state = lxPI
					continue
				case strings.HasPrefix(rest, "<!DOCTYPE"):
					b = append(b, "<!DOCTYPE"...)
					i += 9
					state, subset = lxDoctype, false
					continue
				default:
					state = lxTag
				}
			}
		case lxTag, lxPI, lxDoctype:
			switch {
			case c == '\r' || c == '\n':
				j := i
				for j < len(s) && (s[j] == '\r' || s[j] == '\n') {
					j++
				}
				if j < len(s) && len(b) > 0 && separates(b[len(b)-1], s[j]) {
					b = append(b, ' ')
				}
				i = j
				continue
			case state == lxTag && (c == '"' || c == '\''):
				state, quote = lxQuoted, c
			case state == lxTag && c == '>':
				state = lxText
			case state == lxDoctype:
				// Mirror the parser's DOCTYPE scan: quoted literals, an
				// internal subset in brackets with comments inside.
				switch {
				case c == '"' || c == '\'':
					end := strings.IndexByte(s[i+1:], c)
					if end < 0 {
						end = len(s) - i - 2
					}
					b = appendWithoutBreaks(b, s[i:i+end+2])
					i += end + 2
					continue
				case c == '[' && !subset:
					subset = true
				case c == ']' && subset:
					subset = false
				case c == '<' && subset && strings.HasPrefix(s[i:], "<!--"):
					end := strings.Index(s[i+4:], "-->")
					if end < 0 {
						end = len(s) - i - 7
					}
					b = appendWithoutBreaks(b, s[i:i+end+7])
					i += end + 7
					continue
				case c == '<' && subset && strings.HasPrefix(s[i:], "<?"):
					end := strings.Index(s[i+2:], "?>")
					if end < 0 {
						end = len(s) - i - 4
					}
					b = appendWithoutBreaks(b, s[i:i+end+4])
					i += end + 4
					continue
				case c == '>' && !subset:
					state = lxText
				}
			case state == lxPI && c == '?' && strings.HasPrefix(s[i:], "?>"):
				b = append(b, "?>"...)
				i += 2
				state = lxText
				continue
			}
		case lxQuoted:
			if c == quote {
				state = lxTag
			}
		case lxComment:
			if c == '-' && strings.HasPrefix(s[i:], "-->") {
				b = append(b, "-->"...)
				i += 3
				state = lxText
				continue
			}
		case lxCDATA:
			if c == ']' && strings.HasPrefix(s[i:], "]]>") {
				b = append(b, "]]>"...)
				i += 3
				state = lxText
				continue
			}
		}
		if c != '\r' && c != '\n' {
			b = append(b, c)
		}
		i++
	}
	return string(b)
}

// appendWithoutBreaks appends s to b without its "\r" and "\n" bytes.
func appendWithoutBreaks(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] != '\r' && s[i] != '\n' {
			b = append(b, s[i])
		}
	}
	return b
}

// separates reports whether a line break between prev and next is the only
// separator of two tokens inside markup, so deleting it would glue them.
func separates(prev, next byte) bool {
	switch prev {
	case ' ', '\t', '=', '<', '/':
		return false
	}
	switch next {
	case ' ', '\t', '=', '/', '>', '?':
		return false
	}
	return true
}
