package server

import (
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"labelstudio/store"
)

// get sends a GET with extra headers through the router.
func get(t testing.TB, s *Server, target string, headers map[string]string) response {
	t.Helper()
	req := httptest.NewRequest("GET", "/", nil)
	// Keep the path as written (no client-side cleaning of ".." or %2e).
	req.URL = &url.URL{Path: "/", RawPath: "/", Opaque: strings.SplitN(target, "?", 2)[0]}
	if i := strings.Index(target, "?"); i >= 0 {
		req.URL.RawQuery = target[i+1:]
	}
	req.RequestURI = target
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.App().Test(req, -1)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{status: resp.StatusCode, body: b.String(), header: resp.Header}
}

func TestDataUploadRanges(t *testing.T) {
	e := newImportEnv(t, audioConfig, Options{})
	wav := testFile(t, "beep.WAV")
	mustImport(t, e.upload1(t, "/api/project/import", wav))
	u := e.taskData(t, 0)["audio"].(string)
	size := len(wav.body)
	rows := []struct {
		rng, ifRange string
		status       int
		body         string
		contentRange string
	}{
		{rng: "bytes=0-9", status: 206, body: string(wav.body[:10]), contentRange: "bytes 0-9/844"},
		{rng: "bytes=840-", status: 206, body: string(wav.body[840:]), contentRange: "bytes 840-843/844"},
		{rng: "bytes=-4", status: 206, body: string(wav.body[size-4:]), contentRange: "bytes 840-843/844"},
		{rng: "bytes=800-99999", status: 206, body: string(wav.body[800:]), contentRange: "bytes 800-843/844"},
		{rng: "bytes=844-", status: 416, contentRange: "bytes */844"},
		{rng: "bytes=-0", status: 416, contentRange: "bytes */844"},
		{rng: "bytes=0-1,5-6", status: 200, body: string(wav.body)},
		{rng: "bytes=9-2", status: 200, body: string(wav.body)},
		{rng: "items=0-1", status: 200, body: string(wav.body)},
		{rng: "bytes=0-9", ifRange: `"stale"`, status: 200, body: string(wav.body)},
	}
	for _, r := range rows {
		h := map[string]string{"Range": r.rng}
		if r.ifRange != "" {
			h["If-Range"] = r.ifRange
		}
		resp := get(t, e.s, u, h)
		if resp.status != r.status || (r.body != "" && resp.body != r.body) || resp.header.Get("Content-Range") != r.contentRange {
			t.Errorf("%s: %d, %d bytes, Content-Range %q", r.rng, resp.status, len(resp.body), resp.header.Get("Content-Range"))
		}
	}
	full := get(t, e.s, u, nil)
	if full.header.Get("Accept-Ranges") != "bytes" || full.header.Get("Content-Type") != "audio/wav" || full.header.Get("ETag") == "" {
		t.Fatalf("headers %v", full.header)
	}
	if r := get(t, e.s, u, map[string]string{"If-None-Match": full.header.Get("ETag")}); r.status != 304 {
		t.Fatalf("If-None-Match: %d", r.status)
	}
	if r := get(t, e.s, u, map[string]string{"Range": "bytes=0-9", "If-Range": full.header.Get("ETag")}); r.status != 206 {
		t.Fatalf("If-Range with the ETag: %d", r.status)
	}
	if r := get(t, e.s, "/data/upload/missing.wav", nil); r.status != 404 || !strings.Contains(r.body, "missing.wav") {
		t.Fatalf("missing: %d %s", r.status, r.body)
	}
}

func TestDataUploadTraversal(t *testing.T) {
	e := newImportEnv(t, imageConfig, Options{})
	mustImport(t, e.upload1(t, "/api/project/import", testFile(t, "pixel.png")))
	// A secret next to the upload folder.
	os.WriteFile(filepath.Join(e.upload, "secret.txt"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(e.upload, "test", ".hidden"), []byte("secret"), 0o644)
	os.Symlink(filepath.Join(e.upload, "secret.txt"), filepath.Join(e.upload, "test", "link.txt"))
	for _, p := range []string{
		"/data/upload/../secret.txt",
		"/data/upload/..%2fsecret.txt",
		"/data/upload/%2e%2e/secret.txt",
		"/data/upload/%2e%2e%2fsecret.txt",
		"/data/upload/..%5csecret.txt",
		`/data/upload/..\secret.txt`,
		"/data/upload/%2fetc%2fpasswd",
		"/data/upload//etc/passwd",
		"/data/upload/.hidden",
		"/data/upload/link.txt",
		"/data/upload/x%00.png",
		"/upload/../secret.txt",
		"/upload/%2e%2e%2fsecret.txt",
	} {
		r := get(t, e.s, p, nil)
		if r.status == 200 || strings.Contains(r.body, "secret") && !strings.Contains(r.body, "detail") {
			t.Errorf("%s: %d %q", p, r.status, r.body)
		}
	}
}

func TestDataLocalFiles(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(root, "imgs", "sub"), 0o755)
	os.WriteFile(filepath.Join(root, "imgs", "a b.png"), []byte("PNGDATA"), 0o644)
	os.WriteFile(filepath.Join(root, "imgs", "sub", "c.jpg"), []byte("JPG"), 0o644)
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644)
	os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(root, "imgs", "escape.txt"))
	os.Symlink(outside, filepath.Join(root, "imgs", "outdir"))
	os.Symlink(filepath.Join(root, "imgs", "a b.png"), filepath.Join(root, "imgs", "inside.png"))
	// A symlinked path to the root is still the root.
	alias := filepath.Join(t.TempDir(), "alias")
	os.Symlink(root, alias)

	q := func(dir string) string { return "?d=" + url.QueryEscape(dir) }
	imgs := filepath.Join(root, "imgs")

	denied := newImportEnv(t, imageConfig, Options{LocalFilesRoots: []string{root}})
	if r := get(t, denied.s, "/data/a%20b.png"+q(imgs), nil); r.status != 403 || !strings.Contains(r.body, "Serving local files is not allowed") {
		t.Fatalf("not allowed: %d %s", r.status, r.body)
	}
	// The project setting enables it too.
	if _, err := denied.st.UpdateSettings("test", func(s *store.Settings) error { s.AllowServingLocalFiles = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if r := get(t, denied.s, "/data/a%20b.png"+q(imgs), nil); r.status != 200 {
		t.Fatalf("allowed by the setting: %d %s", r.status, r.body)
	}
	noRoots := newImportEnv(t, imageConfig, Options{AllowServingLocalFiles: true})
	if r := get(t, noRoots.s, "/data/a%20b.png"+q(imgs), nil); r.status != 403 || !strings.Contains(r.body, "--local-files-root") {
		t.Fatalf("no roots: %d %s", r.status, r.body)
	}

	e := newImportEnv(t, imageConfig, Options{AllowServingLocalFiles: true, LocalFilesRoots: []string{root}})
	ok := map[string]string{
		"/data/a%20b.png" + q(imgs):                         "PNGDATA",
		"/data/sub/c.jpg" + q(imgs):                         "JPG",
		"/data/c.jpg" + q(filepath.Join(imgs, "sub")):       "JPG",
		"/data/inside.png" + q(imgs):                        "PNGDATA",
		"/data/a%20b.png" + q(filepath.Join(alias, "imgs")): "PNGDATA",
	}
	for p, want := range ok {
		r := get(t, e.s, p, nil)
		if r.status != 200 || r.body != want {
			t.Errorf("%s: %d %q", p, r.status, r.body)
		}
	}
	if r := get(t, e.s, "/data/a%20b.png"+q(imgs), nil); r.header.Get("Content-Type") != "image/png" || !strings.Contains(r.header.Get("Content-Disposition"), `filename="a b.png"`) {
		t.Errorf("headers: %v", r.header)
	}
	if r := get(t, e.s, "/data/a%20b.png"+q(imgs), map[string]string{"Range": "bytes=3-"}); r.status != 206 || r.body != "DATA" {
		t.Errorf("range: %d %q", r.status, r.body)
	}
	missing := get(t, e.s, "/data/nope.png"+q(imgs), nil)
	if missing.status != 404 || !strings.Contains(missing.body, filepath.Join(imgs, "nope.png")) {
		t.Errorf("missing: %d %s", missing.status, missing.body)
	}
	refused := []string{
		"/data/secret.txt" + q(outside),
		"/data/../secret.txt" + q(imgs),
		"/data/%2e%2e/%2e%2e/secret.txt" + q(imgs),
		"/data/..%2f..%2fsecret.txt" + q(imgs),
		"/data/escape.txt" + q(imgs),
		"/data/outdir/secret.txt" + q(imgs),
		"/data/secret.txt" + q(filepath.Join(imgs, "outdir")),
		"/data/secret.txt" + q(imgs+"/../../"+filepath.Base(outside)),
		"/data/etc/passwd" + q("/"),
		"/data/passwd" + q("/etc"),
		"/data/passwd" + q("etc"),
		"/data/a%20b.png" + q(`C:\imgs`),
		`/data/..\..\secret.txt` + q(imgs),
		"/data/%2fetc%2fpasswd" + q(imgs),
		"/data/a%20b.png",
	}
	for _, p := range refused {
		r := get(t, e.s, p, nil)
		if r.status == 200 || strings.Contains(r.body, "secret") && !strings.Contains(r.body, "detail") {
			t.Errorf("%s: %d %q", p, r.status, r.body)
		}
	}
}

func TestProjectDirName(t *testing.T) {
	for in, want := range map[string]string{"test": "test", "u/p": "u%2Fp", ".": "%2E", "..": "%2E.", ".tmp": "%2Etmp", "": "%2E", `a\b`: `a%5Cb`} {
		if got := store.UploadFolder(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
