package exports

import (
	"encoding/json"
	"math"
	"sort"
	"unicode"
	"unicode/utf8"
)

// Text spans. Labels regions on a Text object store start and end offsets
// into the task text counted in Unicode code points (Python string indices,
// as the converter uses them) — not bytes and not UTF-16 units — with end
// exclusive, and usually the covered text. Everything here works on the
// text as a []rune for that reason.

// textSpan is one labeled span of the task text.
type textSpan struct {
	start, end int // code points, end exclusive
	label      string
	region     int // result index, for messages
}

// spanValue is the part of a Labels value spans read.
type spanValue struct {
	Start  *float64        `json:"start"`
	End    *float64        `json:"end"`
	Text   *string         `json:"text"`
	Labels json.RawMessage `json:"labels"`
}

// itemSpans returns the spans of every Labels control of the item, sorted
// by start (stable). Spans with unusable offsets or no label are skipped and
// reported; a span whose stored text differs from the task text at its
// offsets is reported and kept at its offsets.
func itemSpans(it item, text []rune, warn *warnings) []textSpan {
	var spans []textSpan
	for _, v := range it.valuesOf("Labels") {
		var sv spanValue
		if err := json.Unmarshal(v.raw, &sv); err != nil || sv.Start == nil || sv.End == nil {
			warn.add(it.id, "CONLL2003: region %d has no start/end offsets; skipped", v.index)
			continue
		}
		s, e := *sv.Start, *sv.End
		if s != math.Trunc(s) || e != math.Trunc(e) || s < 0 || e > float64(len(text)) || s >= e {
			warn.add(it.id, "CONLL2003: region %d has offsets [%v, %v) outside the text of %d characters; skipped", v.index, s, e, len(text))
			continue
		}
		span := textSpan{start: int(s), end: int(e), region: v.index}
		if labels := stringList(sv.Labels); len(labels) > 0 {
			span.label = labels[0]
		}
		if span.label == "" {
			warn.add(it.id, "CONLL2003: region %d has no label; skipped", v.index)
			continue
		}
		if sv.Text != nil {
			if got := string(text[span.start:span.end]); got != *sv.Text {
				warn.add(it.id, "CONLL2003: region %d: stored text %q does not match the task text %q at [%d, %d); offsets kept",
					v.index, *sv.Text, got, span.start, span.end)
			}
		}
		spans = append(spans, span)
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	end := -1
	for i, s := range spans {
		if i > 0 && s.start < end {
			warn.add(it.id, "CONLL2003: region %d overlaps an earlier span; shared tokens keep the earlier span's tag", s.region)
		}
		end = max(end, s.end)
	}
	return spans
}

// token is a token's code point range [start, end).
type token struct{ start, end int }

// tokenize splits text into tokens. Whitespace (including CR and LF)
// separates tokens and is dropped; every span edge splits; each punctuation
// mark is a token of its own, except . , ' ’ - ‐ between two letters or
// digits of one word ("5.93", "155,221", "don't", "e-mail"); each Han,
// Hiragana or Katakana character is a token (CJK text has no spaces); a
// symbol such as an emoji is a token together with the modifiers, variation
// selectors and zero-width-joined symbols that follow it.
func tokenize(text []rune, edges map[int]bool) []token {
	var out []token
	start := -1
	closeTok := func(i int) {
		if start >= 0 && i > start {
			out = append(out, token{start, i})
		}
		start = -1
	}
	for i := 0; i < len(text); i++ {
		r := text[i]
		if edges[i] {
			closeTok(i)
		}
		switch {
		case unicode.IsSpace(r):
			closeTok(i)
		case isCJK(r):
			closeTok(i)
			out = append(out, token{i, i + 1})
		case unicode.IsPunct(r) && !unicode.Is(unicode.Pc, r):
			if start >= 0 && isJoiner(r) && i+1 < len(text) && !edges[i+1] &&
				isWordRune(text[i-1]) && isWordRune(text[i+1]) {
				continue // inside a word
			}
			closeTok(i)
			out = append(out, token{i, i + 1})
		case unicode.IsSymbol(r) || isRegionalIndicator(r):
			closeTok(i)
			j := i + 1
			for j < len(text) && !edges[j] && continuesCluster(text[i:j], text[j]) {
				j++
			}
			out = append(out, token{i, j})
			i = j - 1
		default:
			if start < 0 {
				start = i
			}
		}
	}
	closeTok(len(text))
	return out
}

// isCJK reports a Han, Hiragana or Katakana character.
func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// isJoiner reports punctuation that may sit inside a word.
func isJoiner(r rune) bool {
	switch r {
	case '.', ',', '\'', '\u2019', '-', '\u2010':
		return true
	}
	return false
}

// isWordRune reports a letter or digit.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// continuesCluster reports whether r belongs to the symbol cluster so far:
// combining marks, variation selectors, skin-tone modifiers, tag
// characters, a zero-width joiner and the character after it, and the
// second regional indicator of a flag.
func continuesCluster(cluster []rune, r rune) bool {
	prev := cluster[len(cluster)-1]
	switch {
	case prev == 0x200D, r == 0x200D:
		return true
	case unicode.In(r, unicode.Mn, unicode.Me):
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
		return true
	case r >= 0x1F3FB && r <= 0x1F3FF, r >= 0xE0020 && r <= 0xE007F:
		return true
	case isRegionalIndicator(r) && len(cluster) == 1 && isRegionalIndicator(prev):
		return true
	}
	return false
}

// tagTokens returns the IOB2 tag of each token: "O" outside spans, "B-" +
// label on the first token of a span, "I-" + label on the following ones.
// A token inside several spans takes the earliest-starting one.
func tagTokens(tokens []token, spans []textSpan) []string {
	tags := make([]string, len(tokens))
	front, prev := 0, -1
	for k, t := range tokens {
		for front < len(spans) && spans[front].end <= t.start {
			front++
		}
		cover := -1
		for j := front; j < len(spans) && spans[j].start <= t.start; j++ {
			if spans[j].end > t.start {
				cover = j
				break
			}
		}
		switch {
		case cover < 0:
			tags[k] = "O"
		case cover == prev:
			tags[k] = "I-" + spans[cover].label
		default:
			tags[k] = "B-" + spans[cover].label
		}
		prev = cover
	}
	return tags
}

// spanEdges returns the set of span start and end offsets.
func spanEdges(spans []textSpan) map[int]bool {
	edges := make(map[int]bool, 2*len(spans))
	for _, s := range spans {
		edges[s.start], edges[s.end] = true, true
	}
	return edges
}

// conllLines renders one item's tokens as CoNLL lines.
func conllLines(b []byte, text []rune, tokens []token, tags []string) []byte {
	for i, t := range tokens {
		b = append(b, string(text[t.start:t.end])...)
		b = append(b, " -X- _ "...)
		for _, r := range tags[i] {
			if unicode.IsSpace(r) {
				r = '_' // keep the tag one column
			}
			b = utf8.AppendRune(b, r)
		}
		b = append(b, '\n')
	}
	return b
}
