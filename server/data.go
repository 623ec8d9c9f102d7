package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"labelstudio/store"
)

// localFilesNotAllowed is the detail of GET /data/<file>?d=<dir> when local
// files are not served (api.md §3.4).
const localFilesNotAllowed = `Serving local files is not allowed. Use "allow_serving_local_files": true config option to enable local serving`

// dataRoutes registers the media routes: uploaded files, their deprecated
// alias, and local files.
func (s *Server) dataRoutes() {
	a := s.app
	a.Get("/data/upload/*", s.serveUpload)
	a.Get("/upload/*", s.serveUploadRaw) // deprecated alias (api.md §6)
	a.Get("/data/*", s.serveLocalFile)
}

// serveUpload: GET /data/upload/<name>, a file an import uploaded.
func (s *Server) serveUpload(c *fiber.Ctx) error { return s.sendUpload(c, false) }

// serveUploadRaw: GET /upload/<name>, the same bytes without content-type
// guessing.
func (s *Server) serveUploadRaw(c *fiber.Ctx) error { return s.sendUpload(c, true) }

func (s *Server) sendUpload(c *fiber.Ctx, raw bool) error {
	name, err := cleanRequestPath(c.Params("*"))
	if err != nil {
		return err
	}
	if strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
		return envelopeError(fiber.StatusNotFound, "Not found: upload "+name)
	}
	if s.opts.UploadDir == "" {
		return envelopeError(fiber.StatusNotFound, "Not found: upload "+name+" (the server has no upload folder)")
	}
	dir := filepath.Join(s.opts.UploadDir, store.UploadFolder(s.projectName(c)))
	return sendFileIn(c, dir, name, raw)
}

// serveLocalFile: GET /data/<file>?d=<dir>, a file of a registered
// local-files root (api.md §3.4).
func (s *Server) serveLocalFile(c *fiber.Ctx) error {
	allowed := s.opts.AllowServingLocalFiles
	if !allowed {
		p, err := s.st.Project(s.projectName(c))
		if err != nil {
			return err
		}
		allowed = p.Settings.AllowServingLocalFiles
	}
	if !allowed {
		return envelopeError(fiber.StatusForbidden, localFilesNotAllowed)
	}
	name, err := cleanRequestPath(c.Params("*"))
	if err != nil {
		return err
	}
	d := c.Query("d")
	if d == "" {
		return envelopeError(fiber.StatusBadRequest, "The d query parameter, the file's folder, is required: /data/<file>?d=<folder>")
	}
	if strings.ContainsRune(d, 0) || strings.Contains(d, `\`) || !filepath.IsAbs(d) {
		return envelopeError(fiber.StatusBadRequest, fmt.Sprintf("The folder %q is not an absolute path", d))
	}
	full := filepath.Join(filepath.Clean(d), filepath.FromSlash(name))
	if len(s.opts.LocalFilesRoots) == 0 {
		return envelopeError(fiber.StatusForbidden, fmt.Sprintf("%s is outside the local-files roots: no root is registered (start the server with --local-files-root DIR)", full))
	}
	for _, root := range s.opts.LocalFilesRoots {
		if dir, rel, ok := underRoot(root, full); ok {
			return sendFileIn(c, dir, rel, false)
		}
	}
	return envelopeError(fiber.StatusForbidden, fmt.Sprintf("%s is outside the local-files roots", full))
}

// underRoot tells whether file lies in root, comparing the paths as given,
// then with symbolic links resolved; it returns the folder to serve from
// (root or its resolved path) and the file's path relative to it.
func underRoot(root, file string) (dir, rel string, ok bool) {
	root = filepath.Clean(root)
	if rel, ok := relInside(root, file); ok {
		return root, rel, true
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", "", false
	}
	if rel, ok := relInside(realRoot, resolveExisting(file)); ok {
		return realRoot, rel, true
	}
	return "", "", false
}

// resolveExisting resolves the symbolic links of a path's longest existing
// prefix.
func resolveExisting(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	dir, base := filepath.Split(p)
	if dir == "" || dir == p {
		return p
	}
	return filepath.Join(resolveExisting(filepath.Clean(dir)), base)
}

func relInside(root, file string) (string, bool) {
	rel, err := filepath.Rel(root, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}

// cleanRequestPath decodes the file part of a /data URL and refuses what
// could leave the folder: "..", absolute paths, backslashes, NUL bytes.
func cleanRequestPath(raw string) (string, error) {
	name, err := url.PathUnescape(raw)
	if err != nil {
		return "", envelopeError(fiber.StatusBadRequest, fmt.Sprintf("The file path %q is not valid percent-encoding: %v", raw, err))
	}
	bad := name == "" || strings.HasPrefix(name, "/") || strings.ContainsAny(name, "\\\x00")
	for _, part := range strings.Split(name, "/") {
		if part == ".." || part == "." || (part == "" && name != "") {
			bad = true
		}
	}
	if bad {
		return "", envelopeError(fiber.StatusBadRequest, fmt.Sprintf("The file path %q is not allowed: it must be relative and stay inside its folder", name))
	}
	return name, nil
}

// sendFileIn serves the file at rel inside dir. It opens it through
// os.Root, so that neither ".." nor a symbolic link leads out of dir even if
// the tree changes meanwhile.
func sendFileIn(c *fiber.Ctx, dir, rel string, raw bool) error {
	full := filepath.Join(dir, rel)
	root, err := os.OpenRoot(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return envelopeError(fiber.StatusNotFound, "404 Not Found: "+full)
		}
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		// os.Root refuses every absolute symbolic link; one that resolves
		// inside dir is fine.
		f, err = openResolvedInside(dir, full)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return envelopeError(fiber.StatusNotFound, "404 Not Found: "+full)
		}
		return envelopeError(fiber.StatusForbidden, fmt.Sprintf("%s cannot be served: %v", full, err))
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return envelopeError(fiber.StatusNotFound, "404 Not Found: "+full+" is not a file")
	}
	ctype := "application/octet-stream"
	if !raw {
		ctype = contentTypeOf(rel)
		c.Set(fiber.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": filepath.Base(rel)}))
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set("X-Content-Type-Options", "nosniff")
	return sendContent(c, f, fi.Size(), fi.ModTime())
}

// openResolvedInside opens file when, its symbolic links resolved, it lies
// inside dir (also resolved).
func openResolvedInside(dir, file string) (*os.File, error) {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(file)
	if err != nil {
		return nil, err
	}
	if _, ok := relInside(realDir, real); !ok {
		return nil, errors.New("the path leads out of the folder")
	}
	return os.Open(real)
}

// sendContent writes a file with Last-Modified, conditional GET and single
// byte ranges (RFC 9110 §14); f is closed when the response is sent.
func sendContent(c *fiber.Ctx, f *os.File, size int64, mod time.Time) error {
	mod = mod.UTC().Truncate(time.Second)
	etag := fmt.Sprintf(`"%x-%x"`, mod.Unix(), size)
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	c.Set(fiber.HeaderLastModified, mod.Format(http.TimeFormat))
	c.Set(fiber.HeaderETag, etag)
	if notModified(c, etag, mod) {
		f.Close()
		return c.SendStatus(fiber.StatusNotModified)
	}
	if rng := c.Get(fiber.HeaderRange); rng != "" && ifRangeHolds(c, etag, mod) {
		start, length, ok, satisfiable := parseRange(rng, size)
		if !satisfiable {
			f.Close()
			c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes */%d", size))
			return c.Status(fiber.StatusRequestedRangeNotSatisfiable).SendString("")
		}
		if ok {
			c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, size))
			c.Status(fiber.StatusPartialContent)
			c.Context().SetBodyStream(readCloser{io.NewSectionReader(f, start, length), f}, int(length))
			return nil
		}
	}
	c.Status(fiber.StatusOK)
	c.Context().SetBodyStream(f, int(size))
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

func notModified(c *fiber.Ctx, etag string, mod time.Time) bool {
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			if t = strings.TrimSpace(t); t == etag || t == "W/"+etag || t == "*" {
				return true
			}
		}
		return false
	}
	if ims := c.Get(fiber.HeaderIfModifiedSince); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !mod.After(t) {
			return true
		}
	}
	return false
}

func ifRangeHolds(c *fiber.Ctx, etag string, mod time.Time) bool {
	ir := c.Get(fiber.HeaderIfRange)
	if ir == "" {
		return true
	}
	if strings.HasPrefix(ir, `"`) {
		return ir == etag
	}
	t, err := http.ParseTime(ir)
	return err == nil && t.Equal(mod)
}

// parseRange reads a Range header for a body of size bytes. ok is false
// when the header is to be ignored (malformed, not bytes, or several
// ranges: the whole body is sent); satisfiable is false for a range that
// lies past the end.
func parseRange(h string, size int64) (start, length int64, ok, satisfiable bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, true
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, true
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false, true
		}
		if n == 0 || size == 0 {
			return 0, 0, false, false
		}
		n = min(n, size)
		return size - n, n, true, true
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return 0, 0, false, true
	}
	last := size - 1
	if b != "" {
		l, err := strconv.ParseInt(b, 10, 64)
		if err != nil || l < first {
			return 0, 0, false, true
		}
		last = min(l, size-1)
	}
	if first >= size {
		return 0, 0, false, false
	}
	return first, last - first + 1, true, true
}

// mediaTypes are the content types of common media files, so that they do
// not depend on the system's MIME tables.
var mediaTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
	".bmp": "image/bmp", ".webp": "image/webp", ".tif": "image/tiff", ".tiff": "image/tiff",
	".svg": "image/svg+xml", ".ico": "image/x-icon", ".avif": "image/avif",
	".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg",
	".flac": "audio/flac", ".m4a": "audio/mp4", ".aac": "audio/aac", ".aiff": "audio/aiff",
	".aif": "audio/aiff", ".au": "audio/basic", ".opus": "audio/ogg", ".weba": "audio/webm",
	".mp4": "video/mp4", ".m4v": "video/mp4", ".webm": "video/webm", ".ogv": "video/ogg",
	".mov": "video/quicktime", ".avi": "video/x-msvideo", ".mkv": "video/x-matroska",
	".pdf": "application/pdf", ".json": "application/json", ".csv": "text/csv; charset=utf-8",
	".tsv": "text/tab-separated-values; charset=utf-8", ".txt": "text/plain; charset=utf-8",
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".xml": "text/xml; charset=utf-8",
}

// contentTypeOf guesses a file's content type from its extension.
func contentTypeOf(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if t, ok := mediaTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}
