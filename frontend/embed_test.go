package frontend

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestBundleEmbedded fails a CI build that lacks the labeling widget, so no
// binary without the UI can pass. Elsewhere it skips with the fix.
func TestBundleEmbedded(t *testing.T) {
	if !BundleBuilt() {
		msg := "the labeling widget is not in dist/static/editor: run `make frontend`"
		if os.Getenv("CI") != "" || os.Getenv("LABELSTUDIO_REQUIRE_BUNDLE") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	info, err := fs.Stat(Static(), EditorJS)
	if err != nil || info.Size() < MinBundleSize {
		t.Fatalf("main.js: %v, %d bytes", err, info.Size())
	}
	v := Version()
	if v["commit"] != "808858fe9cc17d372a89b1031c3e2e12e06ba1f3" || v["package"] != "label-studio@0.9.1" {
		t.Errorf("version.json = %v", v)
	}
	for _, name := range []string{EditorCSS, EditorDir + "/LICENSE", EditorDir + "/js/main.js.LICENSE.txt"} {
		if _, err := fs.Stat(Static(), name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Only the bundle: no demo page, source maps or service worker.
	_ = fs.WalkDir(Static(), EditorDir, func(p string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(p, ".map") || strings.HasSuffix(p, ".html") || strings.Contains(p, "service-worker") {
			t.Errorf("%s must not be embedded", p)
		}
		return nil
	})
}

// TestOwnFilesStayOffline checks that our own pages, scripts and styles
// name no other host: the binary must work with no network.
func TestOwnFilesStayOffline(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[/"' )]|@import|@font-face`)
	check := func(fsys fs.FS, root string) {
		_ = fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasPrefix(p, EditorDir) {
				return err
			}
			b, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			// The SVG namespace is a name, not a request.
			text := strings.ReplaceAll(string(b), `xmlns="http://www.w3.org/2000/svg"`, "")
			if m := external.FindString(text); m != "" {
				t.Errorf("%s refers to %q", p, m)
			}
			return nil
		})
	}
	check(Static(), ".")
	check(Templates(), ".")
}

func TestTemplatesAndPagesPresent(t *testing.T) {
	for _, name := range []string{"layout.html", "labeling.html", "tasks.html", "setup.html", "import.html",
		"export.html", "model.html", "welcome.html", "error.html", "render.html"} {
		if _, err := fs.Stat(Templates(), name); err != nil {
			t.Errorf("template %s: %v", name, err)
		}
	}
	for _, name := range []string{"app.css", "common.js", "labeling.js", "tasks.js", "setup.js", "import.js", "export.js", "model.js", "favicon.svg"} {
		if _, err := fs.Stat(Static(), "static/app/"+name); err != nil {
			t.Errorf("static/app/%s: %v", name, err)
		}
	}
}
