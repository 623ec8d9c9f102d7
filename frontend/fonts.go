package frontend

import (
	"io/fs"
	"sync"
)

// FontsDir is where `make frontend` puts the pages' font, Roboto from the
// npm package @fontsource-variable/roboto (one variable-weight file per
// Unicode subset, upright and italic), with fonts.css: the @font-face rules
// that name the files by URL, each URL versioned by the file's checksum.
const FontsDir = "static/fonts"

// FontsCSS is the path of those rules inside Static().
const FontsCSS = FontsDir + "/fonts.css"

// FontFamily is the family of the font's Latin faces. Its other faces
// (Latin Extended, Cyrillic, Greek, Vietnamese, symbols) form the family
// FontFamily + " Ext", which the pages name next.
const FontFamily = "Roboto Variable"

var fontFaces = sync.OnceValue(func() string {
	b, err := fs.ReadFile(Static(), FontsCSS)
	if err != nil {
		return ""
	}
	return string(b)
})

// FontFaces returns the @font-face rules of the font, to put into a page's
// <style>; it is empty when the font was not built.
func FontFaces() string { return fontFaces() }

// FontLoader returns a script that has the browser load the Latin faces of
// the font, upright and italic (the widget shows some italic text at once),
// as soon as it runs; it is empty when the font was not built.
//
// The browser would otherwise fetch and decode a face when a layout first
// needs it, and lay that text out meanwhile with a stand-in font (a system
// font: the lookups this font is here to avoid), then again. Put after a
// page's stylesheets, it asks for the faces after the files the page
// needs first.
func FontLoader() string {
	if FontFaces() == "" {
		return ""
	}
	return `document.fonts && document.fonts.load && ['1em', 'italic 1em'].forEach(function (f) { document.fonts.load(f + ' "` + FontFamily + `"'); });`
}
