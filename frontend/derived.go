package frontend

import (
	"bytes"
	"io/fs"
)

// Besides the files of Static(), the server offers a few that it derives
// from them once per process (Derived). The labeling page loads these.

// LabelingJS is our glue between the widget and the API.
const LabelingJS = "static/app/labeling.js"

// LabelingBundleJS is the path inside Static() at which the server offers
// the labeling page's script: the widget's bundle followed by LabelingJS
// (see LabelingBundle).
const LabelingBundleJS = EditorDir + "/js/main.labeling.js"

// Derived returns the derived files by their path inside Static(): the
// lean stylesheet (EditorLeanCSS) and the labeling page's script
// (LabelingBundleJS). It is empty when the widget bundle is missing.
func Derived() map[string][]byte {
	out := map[string][]byte{}
	if css := LeanEditorCSS(); css != nil {
		out[EditorLeanCSS] = css
	}
	if js := LabelingBundle(); js != nil {
		out[LabelingBundleJS] = js
	}
	return out
}

// LabelingBundle returns the widget's main.js and LabelingJS as one
// script, so that running it loads the widget and creates it at once.
//
// That matters for the compiled code Chromium keeps for a script: it
// writes it once, after the script has run (soon after, when it finds a
// moment), with the functions compiled up to then. With the widget created
// by a second script, the functions that creating it compiles were left
// out whenever Chromium found its moment between the two scripts, which
// happened under load, and were compiled again on every later visit
// (45-60 ms). In one script they are always in.
//
// The bundle's last line, a comment naming its source map (which is not
// shipped), is left out. It returns nil when a file is missing.
func LabelingBundle() []byte {
	st := Static()
	js, err := fs.ReadFile(st, EditorJS)
	if err != nil {
		return nil
	}
	glue, err := fs.ReadFile(st, LabelingJS)
	if err != nil {
		return nil
	}
	js = bytes.TrimRight(js, "\n")
	if i := bytes.LastIndex(js, []byte("\n//# sourceMappingURL=")); i >= 0 && !bytes.Contains(js[i+1:], []byte("\n")) {
		js = js[:i]
	}
	b := make([]byte, 0, len(js)+len(glue)+3)
	b = append(b, js...)
	b = append(b, "\n;\n"...)
	return append(b, glue...)
}
