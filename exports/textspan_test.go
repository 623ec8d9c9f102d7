package exports

import (
	"strings"
	"testing"
)

// tokensOf renders tokens as strings.
func tokensOf(text []rune, toks []token) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = string(text[t.start:t.end])
	}
	return out
}

func TestTokenize(t *testing.T) {
	cases := []struct {
		text  string
		edges []int
		want  string // tokens joined by "|"
	}{
		{"Opossum lives in Ohio", nil, "Opossum|lives|in|Ohio"},
		{"  many   spaces\t\tand\r\nCRLF\n", nil, "many|spaces|and|CRLF"},
		{"Hello, world!", nil, "Hello|,|world|!"},
		{"5.93 mln, 155,221 bags; don't e-mail", nil, "5.93|mln|,|155,221|bags|;|don't|e-mail"},
		{"U.S. (big)", nil, "U.S|.|(|big|)"},
		{"李小龙在東京", nil, "李|小|龙|在|東|京"},
		{"ひらがなカタカナ", nil, "ひ|ら|が|な|カ|タ|カ|ナ"},
		{"한국어 텍스트", nil, "한국어|텍스트"},
		{"great👍🏽job", nil, "great|👍🏽|job"},
		{"family 👨\u200d👩\u200d👧 here", nil, "family|👨\u200d👩\u200d👧|here"},
		{"flags 🇫🇷🇩🇪", nil, "flags|🇫🇷|🇩🇪"},
		{"keycap 1\ufe0f\u20e3", nil, "keycap|1\ufe0f\u20e3"},
		{"café naïve", nil, "café|naïve"},
		{"snake_case", nil, "snake_case"},
		// span edges split inside words and stop joiners
		{"NewYorkCity", []int{0, 3, 7, 11}, "New|York|City"},
		{"Ohio,now", []int{0, 4}, "Ohio|,|now"},
		{"Smith's", []int{0, 5}, "Smith|'|s"},
	}
	for _, tc := range cases {
		text := []rune(tc.text)
		edges := map[int]bool{}
		for _, e := range tc.edges {
			edges[e] = true
		}
		got := strings.Join(tokensOf(text, tokenize(text, edges)), "|")
		if got != tc.want {
			t.Errorf("tokenize(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestTagTokens(t *testing.T) {
	cases := []struct {
		text  string
		spans []textSpan
		want  string
	}{
		{"Opossum lives in Ohio", []textSpan{{0, 7, "Person", 0}, {17, 21, "Location", 1}}, "B-Person O O B-Location"},
		{"New York City is big", []textSpan{{0, 13, "Location", 0}}, "B-Location I-Location I-Location O O"},
		// adjacent spans with the same label start a new entity each
		{"NewYorkCity", []textSpan{{0, 3, "Loc", 0}, {3, 7, "Loc", 1}, {7, 11, "Org", 2}}, "B-Loc B-Loc B-Org"},
		// a span ending on trailing whitespace does not block later spans
		// (the 0.0.20 bug, exports.md §7)
		{"Ann met Bob", []textSpan{{0, 4, "Person", 0}, {8, 11, "Person", 1}}, "B-Person O B-Person"},
		// nested spans: the outer (earlier) span wins, the inner edges split
		{"New York City", []textSpan{{0, 13, "Loc", 0}, {4, 8, "City", 1}}, "B-Loc I-Loc I-Loc"},
		// code point offsets: the emoji before the span is one character
		{"👋🏽 Ann", []textSpan{{3, 6, "Person", 0}}, "O B-Person"},
		{"", nil, ""},
	}
	for _, tc := range cases {
		text := []rune(tc.text)
		toks := tokenize(text, spanEdges(tc.spans))
		got := strings.Join(tagTokens(toks, tc.spans), " ")
		if got != tc.want {
			t.Errorf("%q: tags %q, want %q (tokens %q)", tc.text, got, tc.want, tokensOf(text, toks))
		}
	}
}

func FuzzTokenize(f *testing.F) {
	f.Add("Hi 👋🏽 I'm 李小龙 from 東京.\r\nVisit Ohio,now! 🇫🇷 Paris", 3, 9)
	f.Add("a\u200d", 0, 1)
	f.Fuzz(func(t *testing.T, s string, a, b int) {
		text := []rune(s)
		var spans []textSpan
		if a >= 0 && b > a && b <= len(text) {
			spans = append(spans, textSpan{a, b, "X", 0})
		}
		toks := tokenize(text, spanEdges(spans))
		prev := 0
		for _, tk := range toks {
			if tk.start < prev || tk.end <= tk.start || tk.end > len(text) {
				t.Fatalf("bad token %v after %d in %q", tk, prev, s)
			}
			for _, sp := range spans {
				if tk.start < sp.start && tk.end > sp.start || tk.start < sp.end && tk.end > sp.end {
					t.Fatalf("token %v straddles span %v", tk, sp)
				}
			}
			prev = tk.end
		}
		if tags := tagTokens(toks, spans); len(tags) != len(toks) {
			t.Fatal("tag count")
		}
	})
}
