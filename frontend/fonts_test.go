package frontend

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestFontsEmbedded checks the font that `make frontend` copies beside the
// widget: every @font-face rule names a file that is embedded, by a URL
// whose version is the start of that file's SHA-256 (so a cached copy is
// never stale), and the Latin faces that FontLoader asks for are there.
func TestFontsEmbedded(t *testing.T) {
	if _, err := fs.Stat(Static(), FontsCSS); err != nil {
		msg := "the pages' font is not in " + FontsDir + ": run `make frontend`"
		if os.Getenv("CI") != "" || os.Getenv("LABELSTUDIO_REQUIRE_BUNDLE") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	css := FontFaces()
	if _, err := fs.Stat(Static(), FontsDir+"/LICENSE"); err != nil {
		t.Errorf("the font's licence: %v", err)
	}
	rules := strings.Count(css, "@font-face")
	urls := regexp.MustCompile(`url\(([^)]*)\)`).FindAllStringSubmatch(css, -1)
	if rules != 18 || len(urls) != rules {
		t.Fatalf("%d @font-face rules with %d URLs, want 18 of each", rules, len(urls))
	}
	if n := strings.Count(css, "font-display: block;"); n != rules {
		t.Errorf("%d of %d rules have font-display: block", n, rules)
	}
	// The Latin faces alone make up FontFamily, with no unicode-range;
	// every other subset belongs to the next family, within its range.
	for _, rule := range strings.Split(css, "@font-face")[1:] {
		latin := regexp.MustCompile(`/roboto-latin-wght-(normal|italic)\.woff2`).MatchString(rule)
		family := FontFamily
		if !latin {
			family += " Ext"
		}
		if !strings.Contains(rule, "font-family: '"+family+"';") {
			t.Errorf("rule %.200q is not of the family %q", rule, family)
		}
		if ranged := strings.Contains(rule, "unicode-range:"); ranged == latin {
			t.Errorf("rule %.200q: unicode-range %v, want %v", rule, ranged, !latin)
		}
	}
	local := regexp.MustCompile(`^/static/fonts/(roboto-[a-z-]+-wght-(normal|italic)\.woff2)\?v=([0-9a-f]{12})$`)
	seen := map[string]bool{}
	for _, u := range urls {
		m := local.FindStringSubmatch(u[1])
		if m == nil {
			t.Errorf("fonts.css names %q, not a font file of this server", u[1])
			continue
		}
		b, err := fs.ReadFile(Static(), FontsDir+"/"+m[1])
		if err != nil {
			t.Errorf("%s: %v", m[1], err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:])[:12]; got != m[3] {
			t.Errorf("%s is named with version %s, its checksum starts %s", m[1], m[3], got)
		}
		if seen[m[1]] {
			t.Errorf("%s is named twice", m[1])
		}
		seen[m[1]] = true
	}
	for _, face := range []string{"roboto-latin-wght-normal.woff2", "roboto-latin-wght-italic.woff2"} {
		if !seen[face] {
			t.Errorf("fonts.css lacks %s", face)
		}
	}
	if l := FontLoader(); !strings.Contains(l, `"`+FontFamily+`"`) || !strings.Contains(l, "italic 1em") {
		t.Errorf("FontLoader() = %q", l)
	}
}
