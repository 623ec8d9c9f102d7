// Package frontend owns the web UI that the binary serves: our own page
// templates, scripts and styles, the sample media of config previews, and the
// Label Studio Frontend bundle (the labeling widget) that `make frontend`
// copies out of the npm package pinned in package.json.
//
// Everything under dist/ is served as static files (dist/static/... at
// /static/..., other files at the site root). Only dist/static/editor/ is
// generated; the rest is committed, so a fresh clone compiles before the
// bundle has been built. templates/ holds the server-rendered pages.
package frontend

import (
	"embed"
	"encoding/json"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

//go:embed templates
var templates embed.FS

// EditorDir is where the widget bundle lives inside Static().
const EditorDir = "static/editor"

// Bundle files inside Static().
const (
	EditorJS      = EditorDir + "/js/main.js"
	EditorCSS     = EditorDir + "/css/main.css"
	EditorVersion = EditorDir + "/version.json"
)

// MinBundleSize is the smallest main.js that counts as a real bundle.
const MinBundleSize = 1 << 20

// Static is the tree of files served over HTTP (the dist folder).
func Static() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil { // only if the embed directive changes
		panic(err)
	}
	return sub
}

// Templates is the folder of page templates (html/template syntax).
func Templates() fs.FS {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		panic(err)
	}
	return sub
}

// BundleBuilt reports whether the widget bundle is embedded: main.js of at
// least MinBundleSize bytes, main.css and version.json.
func BundleBuilt() bool {
	st := Static()
	info, err := fs.Stat(st, EditorJS)
	if err != nil || info.Size() < MinBundleSize {
		return false
	}
	if _, err := fs.Stat(st, EditorCSS); err != nil {
		return false
	}
	_, err = fs.Stat(st, EditorVersion)
	return err == nil
}

// Version is the version.json of the embedded widget bundle, in the shape
// GET /version reports under "label-studio-frontend". It is an empty map
// when the bundle was not built.
func Version() map[string]any {
	out := map[string]any{}
	b, err := fs.ReadFile(Static(), EditorVersion)
	if err != nil {
		return out
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return map[string]any{}
	}
	return out
}
