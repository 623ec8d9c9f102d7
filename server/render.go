package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"labelstudio/frontend"
)

// This file renders the web UI: the page templates of package frontend and
// the embedded static files (our scripts and styles, sample media and the
// labeling widget bundle).

// layoutTemplate is the frame every site page shares; standalone templates
// (the preview document) do not use it.
const layoutTemplate = "layout.html"

// standaloneTemplates are complete documents of their own.
var standaloneTemplates = map[string]bool{"render.html": true}

// embeddedAssets describes the embedded static tree once per process: an
// ETag per file and one version string over all of them. derived holds
// the files made from embedded ones (frontend.Derived).
type embeddedAssets struct {
	fsys    fs.FS
	etags   map[string]string
	derived map[string][]byte
	version string
}

var (
	assetsOnce sync.Once
	assets     *embeddedAssets
)

// staticAssets hashes the embedded files on first use. The hash is the
// ETag of each file, and the hash of all hashes is the ?v= of asset URLs.
func staticAssets() *embeddedAssets {
	assetsOnce.Do(func() {
		a := &embeddedAssets{fsys: frontend.Static(), etags: map[string]string{}, derived: map[string][]byte{}}
		var names []string
		add := func(p string, b []byte) {
			sum := sha256.Sum256(b)
			a.etags[p] = `"` + hex.EncodeToString(sum[:12]) + `"`
			names = append(names, p)
		}
		_ = fs.WalkDir(a.fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, err := fs.ReadFile(a.fsys, p)
			if err != nil {
				return nil
			}
			add(p, b)
			return nil
		})
		for p, b := range frontend.Derived() {
			a.derived[p] = b
			add(p, b)
		}
		sort.Strings(names)
		all := sha256.New()
		for _, n := range names {
			all.Write([]byte(n + "\x00" + a.etags[n] + "\n"))
		}
		a.version = hex.EncodeToString(all.Sum(nil)[:6])
		assets = a
	})
	return assets
}

// pageTemplates holds one parsed template set per page.
type pageTemplates struct {
	pages map[string]*template.Template
}

// templateFuncs are the helpers page templates may call.
var templateFuncs = template.FuncMap{
	// asset returns the URL of an embedded static file with its version,
	// so browsers may cache it for good.
	"asset": func(p string) string { return p + "?v=" + staticAssets().version },
	// inc adds one, for 1-based numbering.
	"inc": func(i int) int { return i + 1 },
	// inlineSVG returns an embedded SVG file as markup to put into the
	// page, marked as decoration. An <img> of an SVG file costs the browser
	// a document of its own, built on the main thread while the page
	// loads; inline it is drawn like the rest of the page.
	"inlineSVG": inlineSVG,
}

// WarmAssets hashes the embedded files and makes the derived ones
// (staticAssets), some 40 ms of work that the first page or asset
// request would otherwise wait for. The command line runs it in the
// background once the server listens, when it opens a browser.
func WarmAssets() { staticAssets() }

// inlineSVG returns the embedded SVG file p (inside the static tree) as
// markup hidden from assistive technology, as the <img alt=""> it replaces
// was. It returns nothing when the file is missing or is not an SVG image.
func inlineSVG(p string) template.HTML {
	b, err := fs.ReadFile(staticAssets().fsys, p)
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, "<svg ") || !strings.HasSuffix(s, "</svg>") {
		return ""
	}
	return template.HTML(`<svg aria-hidden="true" focusable="false" ` + s[len("<svg "):])
}

// loadPageTemplates parses every template of package frontend: each page
// together with the layout, standalone documents alone.
func loadPageTemplates() (*pageTemplates, error) {
	tfs := frontend.Templates()
	layout, err := template.New(layoutTemplate).Funcs(templateFuncs).ParseFS(tfs, layoutTemplate)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(tfs, "*.html")
	if err != nil {
		return nil, err
	}
	pt := &pageTemplates{pages: map[string]*template.Template{}}
	for _, name := range names {
		if name == layoutTemplate {
			continue
		}
		var t *template.Template
		if standaloneTemplates[name] {
			t, err = template.New(name).Funcs(templateFuncs).ParseFS(tfs, name)
		} else {
			t, err = template.Must(layout.Clone()).ParseFS(tfs, name)
		}
		if err != nil {
			return nil, err
		}
		pt.pages[name] = t
	}
	return pt, nil
}

// render executes a page template and sends it as HTML. Site pages run the
// layout (which includes the page's blocks); standalone ones run themselves.
func (pt *pageTemplates) render(c *fiber.Ctx, status int, name string, data any) error {
	t, ok := pt.pages[name]
	if !ok {
		return envelopeError(fiber.StatusInternalServerError, "page template "+name+" is missing")
	}
	entry := layoutTemplate
	if standaloneTemplates[name] {
		entry = name
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, entry, data); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Send(b.Bytes())
}

// serveEmbedded answers a GET or HEAD for one embedded static file, with
// ETag revalidation and Range support. It reports false when no such file
// exists (directories are never listed).
func serveEmbedded(c *fiber.Ctx, name string) (bool, error) {
	a := staticAssets()
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	etag, ok := a.etags[name]
	if !ok {
		return false, nil
	}
	b, ok := a.derived[name]
	if !ok {
		var err error
		if b, err = fs.ReadFile(a.fsys, name); err != nil {
			return false, nil
		}
	}
	cache := "no-cache"
	if c.Query("v") != "" {
		cache = "public, max-age=31536000, immutable"
	}
	h := adaptor.HTTPHandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", cache)
		http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(b))
	})
	return true, h(c)
}
