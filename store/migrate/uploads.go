package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"labelstudio/store"
)

// copyUploads copies the files of a project's upload/ folder into its
// upload folder under root.
func (m *projectMigration) copyUploads(src, root string) error {
	m.uploaded = map[string]bool{}
	fi, err := os.Stat(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil || !fi.IsDir() {
		m.rep.warnf("upload: not a readable folder (%v); no uploads copied", err)
		return nil
	}
	if root == "" {
		m.rep.warnf("upload: no upload folder configured; the files of %s were not copied", src)
		return nil
	}
	dst := filepath.Join(root, store.UploadFolder(m.name))
	m.rep.UploadDir = dst
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(src, path)
		relSlash := filepath.ToSlash(rel)
		if err != nil {
			m.rep.warnf("upload/%s: %v; skipped", relSlash, err)
			if d != nil && d.IsDir() && path != src {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			m.rep.warnf("upload/%s: not a regular file; skipped", relSlash)
			return nil
		}
		n, err := copyFile(path, filepath.Join(dst, rel))
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) && pe.Path == path {
				// The source cannot be read: report it, go on.
				m.rep.warnf("upload/%s: %v; skipped", relSlash, err)
				return nil
			}
			return fmt.Errorf("copy upload/%s: %w", relSlash, err)
		}
		m.uploaded[relSlash] = true
		m.rep.Uploads++
		m.rep.UploadBytes += n
		return nil
	})
}

// copyFile copies src to dst through a temporary file renamed into place.
func copyFile(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".migrate-*")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return n, err
	}
	return n, nil
}

// hostedUpload matches a 0.8.1 upload URL with a host.
var hostedUpload = regexp.MustCompile(`^https?://[^/?#]+/data/upload/(.+)$`)

// uploadURL rewrites http(s)://<host>/data/upload/<name> and the legacy
// /upload/<name> to the root-relative /data/upload/<name>.
func uploadURL(s string) (string, bool) {
	if m := hostedUpload.FindStringSubmatch(s); m != nil {
		return "/data/upload/" + m[1], true
	}
	if rest, ok := strings.CutPrefix(s, "/upload/"); ok && rest != "" {
		return "/data/upload/" + rest, true
	}
	return s, false
}

// taskData returns task data compacted, with upload URLs rewritten. A
// rewritten URL whose file upload/ did not hold is reported.
func (m *projectMigration) taskData(id int64, data []byte) (json.RawMessage, error) {
	if !bytes.Contains(data, []byte("upload/")) && !bytes.Contains(data, []byte(`upload\/`)) {
		return compact(data), nil
	}
	out, n, err := rewriteStrings(data, func(s string) (string, bool) {
		ns, ok := uploadURL(s)
		if ok {
			name := strings.TrimPrefix(ns, "/data/upload/")
			if i := strings.IndexAny(name, "?#"); i >= 0 {
				name = name[:i]
			}
			if un, err := url.PathUnescape(name); err == nil {
				name = un
			}
			if !m.uploaded[name] {
				m.rep.warnf("task %d: %s names a file upload/ does not hold", id, s)
			}
		}
		return ns, ok
	})
	if err != nil {
		return nil, err
	}
	m.rep.RewrittenURLs += n
	return out, nil
}

// rewriteStrings re-encodes a JSON value compactly, keeping the order of
// object keys, and passes every string value (not the keys) through fn.
// It returns how many strings fn changed.
func rewriteStrings(raw []byte, fn func(string) (string, bool)) (json.RawMessage, int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out bytes.Buffer
	type frame struct {
		obj bool
		n   int
	}
	var stack []frame
	changed := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return nil, 0, io.ErrUnexpectedEOF
			}
			break
		}
		if err != nil {
			return nil, 0, err
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			out.WriteByte(byte(d))
			continue
		}
		isKey := false
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			switch {
			case top.obj && top.n%2 == 1:
				out.WriteByte(':')
			case top.n > 0:
				out.WriteByte(',')
			}
			isKey = top.obj && top.n%2 == 0
			top.n++
		}
		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			stack = append(stack, frame{obj: v == '{'})
		case string:
			if !isKey {
				if nv, ok := fn(v); ok {
					v = nv
					changed++
				}
			}
			if err := writeString(&out, v); err != nil {
				return nil, 0, err
			}
		case json.Number:
			out.WriteString(string(v))
		case bool:
			if v {
				out.WriteString("true")
			} else {
				out.WriteString("false")
			}
		case nil:
			out.WriteString("null")
		}
	}
	return out.Bytes(), changed, nil
}

// writeString appends s as a JSON string without HTML escaping.
func writeString(out *bytes.Buffer, s string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	out.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return nil
}
