package importer

import (
	"bytes"
)

// MinifyHTML shrinks an HTML (or XML) text the way 0.8.1's import does
// before it stores it as a task (htmlmin with remove_all_empty_space): text
// made only of white space between two tags is removed, and every other run
// of white space outside tags becomes one space. Tags are copied as they
// are, and so is the content of pre, textarea, script and style elements.
// Malformed markup is copied as well as it can be; it never fails.
func MinifyHTML(src []byte) []byte {
	out := make([]byte, 0, len(src))
	keep := "" // name of the element whose content is copied verbatim
	for i := 0; i < len(src); {
		if src[i] == '<' {
			end := tagEnd(src, i)
			tag := src[i:end]
			out = append(out, tag...)
			name, closing := tagName(tag)
			switch {
			case keep == "" && !closing && isVerbatim(name) && !bytes.HasSuffix(tag, []byte("/>")):
				keep = name
			case keep != "" && closing && name == keep:
				keep = ""
			}
			i = end
			continue
		}
		j := bytes.IndexByte(src[i:], '<')
		if j < 0 {
			j = len(src) - i
		}
		text := src[i : i+j]
		i += j
		if keep != "" {
			out = append(out, text...)
			continue
		}
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		out = appendCollapsed(out, text)
	}
	return out
}

// tagEnd returns the index just past the '>' closing the tag that starts at
// i (quotes in attribute values may hold '>'); len(src) when unclosed.
func tagEnd(src []byte, i int) int {
	var quote byte
	for k := i + 1; k < len(src); k++ {
		c := src[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			if k > i+1 && bytes.HasPrefix(src[i:], []byte("<!--")) {
				continue
			}
			quote = c
		case c == '>':
			if bytes.HasPrefix(src[i:], []byte("<!--")) && !bytes.HasSuffix(src[i:k+1], []byte("-->")) {
				continue
			}
			return k + 1
		}
	}
	return len(src)
}

// tagName returns the lower-case element name of a tag and whether it is a
// closing tag.
func tagName(tag []byte) (string, bool) {
	t := tag[1:]
	closing := false
	if len(t) > 0 && t[0] == '/' {
		closing = true
		t = t[1:]
	}
	n := 0
	for n < len(t) && (t[n] >= 'a' && t[n] <= 'z' || t[n] >= 'A' && t[n] <= 'Z' || t[n] >= '0' && t[n] <= '9') {
		n++
	}
	return string(bytes.ToLower(t[:n])), closing
}

func isVerbatim(name string) bool {
	switch name {
	case "pre", "textarea", "script", "style":
		return true
	}
	return false
}

func appendCollapsed(out, text []byte) []byte {
	space := false
	for _, c := range text {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' {
			if !space {
				out = append(out, ' ')
				space = true
			}
			continue
		}
		space = false
		out = append(out, c)
	}
	return out
}
