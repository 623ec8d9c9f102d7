package exports

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strconv"
	"strings"
)

// copyMedia puts the file a task value refers to into dir/ of the archive
// through opts.Media and returns the name to reference it by: "dir/<name>"
// when copied (or copied earlier for another task), the value itself
// otherwise. onCopy, when set, sees the file's content as it is copied.
func (a *archive) copyMedia(opts Options, taskID int64, value, dir string, onCopy func(io.Reader) io.Reader) (string, bool) {
	if opts.Media == nil || value == "" {
		return value, false
	}
	name, body, err := opts.Media(value)
	if err != nil {
		if body != nil {
			_ = body.Close()
		}
		if !errors.Is(err, ErrNoMedia) {
			a.warn.add(taskID, "media %q not copied: %v", value, err)
		}
		return value, false
	}
	defer body.Close()
	name = safeName(name)
	if name == "" {
		a.warn.add(taskID, "media %q not copied: no file name", value)
		return value, false
	}
	entry := dir + "/" + name
	if a.has(entry) {
		return entry, true
	}
	w, err := a.create(entry, false)
	if err != nil {
		a.warn.add(taskID, "media %q not copied: %v", value, err)
		return value, false
	}
	var r io.Reader = body
	if onCopy != nil {
		r = onCopy(r)
	}
	if _, err := io.Copy(w, r); err != nil {
		// The entry is already in the zip, possibly truncated: say so.
		a.warn.add(taskID, "media %q copied incompletely: %v", value, err)
	}
	return entry, true
}

// safeName makes a file name safe as one zip path element: path separators,
// control characters and characters Windows forbids become "_", and "." or
// ".." become "_".
func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f, strings.ContainsRune(`/\:*?"<>|`, r):
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if out == "." || out == ".." {
		return "_"
	}
	return out
}

// mediaBaseName returns the base name, without extension, of the file a
// task value (URL or path) refers to: query and fragment dropped, percent
// escapes decoded, made safe. It falls back to "task-<id>" when nothing
// usable remains.
func mediaBaseName(value string, taskID int64) string {
	p := value
	if u, err := url.Parse(value); err == nil && u.Path != "" {
		p = u.Path
	}
	p = strings.ReplaceAll(p, `\`, "/")
	base := path.Base(p)
	if ext := path.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	base = safeName(base)
	if base == "" || base == "_" || base == "/" {
		return "task-" + strconv.FormatInt(taskID, 10)
	}
	return base
}

// uniqueName returns name, or name-task-<id> when an entry
// dir/name<suffix> already exists (two tasks showing the same image); dir
// "" is the zip root.
func (a *archive) uniqueName(dir, name, suffix string, taskID int64) string {
	if dir != "" {
		dir += "/"
	}
	if !a.has(dir + name + suffix) {
		return name
	}
	alt := fmt.Sprintf("%s-task-%d", name, taskID)
	for i := 2; a.has(dir + alt + suffix); i++ {
		alt = fmt.Sprintf("%s-task-%d-%d", name, taskID, i)
	}
	return alt
}
