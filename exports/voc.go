package exports

import (
	"archive/zip"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"labelstudio/store"
)

// vocFormat is Pascal VOC XML (exports.md §9): Annotations/<image>.xml per
// task with boxes, and an images/ directory (with the images only when
// Options.Media provides them).
//
// As in the later converter, width and height come from the stored
// original_width/original_height (of the first box that has them) and depth
// is 3: no image is opened. Boxes of every RectangleLabels control are
// exported; rotated boxes become the axis-aligned bounding box of the
// rotated rectangle (geometry.go). An item whose boxes have no stored size
// is skipped and reported. Two tasks showing the same image do not
// overwrite each other: the second XML file is named
// <image>-task-<id>.xml (its <filename> still names the image).
type vocFormat struct{}

// Name returns "VOC".
func (vocFormat) Name() string { return "VOC" }

// Supports reports one data key, an Image input and a RectangleLabels
// control.
func (vocFormat) Supports(s Schema) bool {
	return s.singleInput([]string{"Image"}, "RectangleLabels")
}

// Write writes Annotations/ and images/.
func (vocFormat) Write(zw *zip.Writer, tasks Iterator, s Schema, opts Options) error {
	a := newArchive(zw, opts)
	if err := a.dir("images"); err != nil {
		return err
	}
	if err := a.dir("Annotations"); err != nil {
		return err
	}
	key := s.dataKey()
	err := tasks(func(t store.Task) error {
		it, ok := makeItem(t, s, &a.warn)
		if !ok || len(it.output) == 0 {
			return nil
		}
		values := shapes(it, false)
		if len(values) == 0 {
			return nil
		}
		size, rawW, rawH, ok := imageSizeOf(values)
		if !ok {
			a.warn.add(it.id, "VOC: no original_width/original_height stored on its boxes; %d box(es) skipped", len(values))
			return nil
		}
		value, _ := dataString(it.data, key)
		a.copyMedia(opts, it.id, value, "images", nil)
		imageName := mediaBaseName(value, it.id)
		var objects []vocObject
		for _, v := range values {
			name := v.firstLabel("rectanglelabels")
			if name == "" {
				a.warn.add(it.id, "VOC: region %d has no rectanglelabels; skipped", v.index)
				continue
			}
			r, err := parseRect(v.raw)
			if err != nil {
				a.warn.add(it.id, "VOC: region %d: %v; skipped", v.index, err)
				continue
			}
			vs := size
			if v.hasSize {
				vs = v.size
			}
			x, y, w, h := r.pixelBox(vs).intBox()
			objects = append(objects, vocObject{name: name, xmin: x, ymin: y, xmax: x + w, ymax: y + h})
		}
		file := a.uniqueName("Annotations", imageName, ".xml", it.id)
		doc := vocXML(imageName, numberString(rawW), numberString(rawH), objects)
		return a.file("Annotations/"+file+".xml", doc, true)
	})
	if err != nil {
		return err
	}
	return a.finish()
}

// vocObject is one box of a VOC file.
type vocObject struct {
	name                   string
	xmin, ymin, xmax, ymax int64
}

// vocXML renders a VOC annotation in the converter's layout: declaration,
// one element per line, no indentation, final newline.
func vocXML(filename, width, height string, objects []vocObject) []byte {
	var b strings.Builder
	el := func(tag, text string) {
		b.WriteString("<" + tag + ">" + xmlText(text) + "</" + tag + ">\n")
	}
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<annotation>\n")
	el("folder", "images")
	el("filename", filename)
	b.WriteString("<source>\n")
	el("database", "MyDatabase")
	el("annotation", "COCO2017")
	el("image", "flickr")
	el("flickrid", "NULL")
	b.WriteString("</source>\n<owner>\n")
	el("flickrid", "NULL")
	el("name", "Label Studio")
	b.WriteString("</owner>\n<size>\n")
	el("width", width)
	el("height", height)
	el("depth", "3")
	b.WriteString("</size>\n")
	el("segmented", "0")
	for _, o := range objects {
		b.WriteString("<object>\n")
		el("name", o.name)
		el("pose", "Unspecified")
		el("truncated", "0")
		el("difficult", "0")
		b.WriteString("<bndbox>\n")
		el("xmin", strconv.FormatInt(o.xmin, 10))
		el("ymin", strconv.FormatInt(o.ymin, 10))
		el("xmax", strconv.FormatInt(o.xmax, 10))
		el("ymax", strconv.FormatInt(o.ymax, 10))
		b.WriteString("</bndbox>\n</object>\n")
	}
	b.WriteString("</annotation>\n")
	return []byte(b.String())
}

// xmlText escapes text content: &, < and > become entities, and characters
// XML 1.0 cannot hold (most control characters, invalid UTF-8) become
// U+FFFD so that the file always parses.
func xmlText(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"),
			r < 0x20 && r != '\t' && r != '\n' && r != '\r',
			r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// numberString renders a stored number member as text.
func numberString(v any) string {
	b, err := appendPy(nil, v, styleCompactUTF8, 0)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
