package exports

import (
	"archive/zip"
	"fmt"

	"labelstudio/store"
)

// conllFormat is CONLL2003 (exports.md §7): result.conll, the line
// "-DOCSTART- -X- O O" (the four CoNLL-2003 columns), then per task with a completion one line
// "<token> -X- _ <tag>" per token and an empty line.
//
// The re-implementation follows exports.md's choices: spans come from every
// Labels control of the config (merged), and tokens use true code point
// offsets. Tokenisation goes further than the converter's whitespace split
// so that tags never straddle a span edge: see tokenize. Whitespace inside a
// label becomes "_" to keep the tag a single column.
type conllFormat struct{}

// Name returns "CONLL2003".
func (conllFormat) Name() string { return "CONLL2003" }

// Supports reports one data key, a Text input and a Labels control.
func (conllFormat) Supports(s Schema) bool {
	return s.singleInput([]string{"Text"}, "Labels")
}

// Write writes result.conll.
func (conllFormat) Write(zw *zip.Writer, tasks Iterator, s Schema, opts Options) error {
	a := newArchive(zw, opts)
	w, err := a.stream("result.conll")
	if err != nil {
		return err
	}
	if _, err := w.WriteString("-DOCSTART- -X- O O\n"); err != nil {
		return fmt.Errorf("write result.conll: %w", err)
	}
	key := s.dataKey()
	var buf []byte
	err = tasks(func(t store.Task) error {
		it, ok := makeItem(t, s, &a.warn)
		if !ok {
			return nil
		}
		str, ok := dataString(it.data, key)
		if !ok {
			a.warn.add(it.id, "CONLL2003: task data has no %q text; skipped", key)
			return nil
		}
		text := []rune(str)
		spans := itemSpans(it, text, &a.warn)
		tokens := tokenize(text, spanEdges(spans))
		buf = conllLines(buf[:0], text, tokens, tagTokens(tokens, spans))
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("write result.conll: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write result.conll: %w", err)
	}
	return a.finish()
}
