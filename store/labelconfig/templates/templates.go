// Package templates holds labelstudio's gallery of labeling configs: one XML
// file per template, embedded in the binary, each opening with a comment
// that carries its title, category and complexity as JSON.
package templates

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	json "github.com/goccy/go-json"
)

//go:embed gallery/*.xml
var gallery embed.FS

// Template is one labeling config of the gallery.
type Template struct {
	// Name is the file name without .xml; --template takes it.
	Name string `json:"name"`
	// Title is what the gallery shows.
	Title string `json:"title"`
	// Group is the category: image, text, audio, html, time-series, layouts...
	Group string `json:"group"`
	// Complexity is basic or advanced.
	Complexity string `json:"complexity"`
	// Order sorts templates inside a group.
	Order int `json:"order"`
	// Config is the labeling config without the meta comment.
	Config string `json:"config"`
}

// categoryOrder is the order groups are shown in, per complexity.
var categoryOrder = map[string][]string{
	"basic":    {"audio", "image", "text", "html", "time-series"},
	"advanced": {"layouts", "nested", "per-region", "other", "time-series"},
}

// All returns the gallery sorted for display: basic before advanced, groups
// in a fixed order, then by order and title.
func All() ([]Template, error) {
	files, err := fs.Glob(gallery, "gallery/*.xml")
	if err != nil {
		return nil, err
	}
	var out []Template
	for _, f := range files {
		b, err := gallery.ReadFile(f)
		if err != nil {
			return nil, err
		}
		t, err := parse(strings.TrimSuffix(path.Base(f), ".xml"), string(b))
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	rank := func(t Template) (int, int) {
		cx := 0
		if t.Complexity == "advanced" {
			cx = 1
		}
		for i, c := range categoryOrder[t.Complexity] {
			if c == t.Group {
				return cx, i
			}
		}
		return cx, 100
	}
	sort.SliceStable(out, func(i, j int) bool {
		ci, gi := rank(out[i])
		cj, gj := rank(out[j])
		if ci != cj {
			return ci < cj
		}
		if gi != gj {
			return gi < gj
		}
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		return out[i].Title < out[j].Title
	})
	return out, nil
}

// Get returns the template with the given name.
func Get(name string) (Template, error) {
	all, err := All()
	if err != nil {
		return Template{}, err
	}
	var names []string
	for _, t := range all {
		if t.Name == name {
			return t, nil
		}
		names = append(names, t.Name)
	}
	return Template{}, fmt.Errorf("no template %q; the templates are: %s", name, strings.Join(names, ", "))
}

// parse splits a gallery file into its meta comment and its config.
func parse(name, text string) (Template, error) {
	t := Template{Name: name}
	rest, ok := strings.CutPrefix(strings.TrimSpace(text), "<!--")
	if !ok {
		return t, fmt.Errorf("template %s: no meta comment", name)
	}
	meta, body, ok := strings.Cut(rest, "-->")
	if !ok {
		return t, fmt.Errorf("template %s: unterminated meta comment", name)
	}
	var m struct {
		Title      string `json:"title"`
		Category   string `json:"category"`
		Complexity string `json:"complexity"`
		Order      int    `json:"order"`
	}
	if err := json.Unmarshal([]byte(meta), &m); err != nil {
		return t, fmt.Errorf("template %s: meta comment: %w", name, err)
	}
	t.Title, t.Group, t.Complexity, t.Order = m.Title, m.Category, m.Complexity, m.Order
	t.Config = strings.TrimLeft(body, "\r\n")
	return t, nil
}
