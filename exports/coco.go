package exports

import (
	"archive/zip"
	"fmt"
	"io"

	"labelstudio/store"
)

// cocoFormat is COCO (exports.md §8): result.json with images, categories
// and annotations, and an images/ directory (with the images only when
// Options.Media provides them).
//
// Differences from converter 0.0.20, all in favour of not losing or
// inventing data: the rectangle and polygon values of every
// RectangleLabels and PolygonLabels control of the item are exported, not
// only those of the first control; a region without its own stored size
// uses the image's (that of the first region that has one); an item none of
// whose regions has a stored size is skipped and reported; rotated
// rectangles get the axis-aligned bounding box of the rotated rectangle
// (geometry.go) instead of ignoring the rotation, and area = w × h of that
// box.
//
// Images and annotations are written to temporary files as the tasks
// stream by; only the category list is kept in memory.
type cocoFormat struct{}

// Name returns "COCO".
func (cocoFormat) Name() string { return "COCO" }

// Supports reports one data key, an Image input and a RectangleLabels or
// PolygonLabels control.
func (cocoFormat) Supports(s Schema) bool {
	return s.singleInput([]string{"Image"}, "RectangleLabels", "PolygonLabels")
}

// Write writes result.json and images/.
func (cocoFormat) Write(zw *zip.Writer, tasks Iterator, s Schema, opts Options) error {
	a := newArchive(zw, opts)
	if err := a.dir("images"); err != nil {
		return err
	}
	images, err := newSpool()
	if err != nil {
		return err
	}
	defer images.remove()
	anns, err := newSpool()
	if err != nil {
		return err
	}
	defer anns.remove()
	c := cocoState{images: images, anns: anns, catIDs: map[string]int64{}}
	key := s.dataKey()
	err = tasks(func(t store.Task) error {
		it, ok := makeItem(t, s, &a.warn)
		if !ok || len(it.output) == 0 {
			return nil
		}
		return c.addItem(a, it, key, opts)
	})
	if err != nil {
		return err
	}
	w, err := a.stream("result.json")
	if err != nil {
		return err
	}
	if err := c.assemble(w, opts); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write result.json: %w", err)
	}
	return a.finish()
}

// cocoState is what COCO keeps while streaming.
type cocoState struct {
	images, anns       *spool
	nImages, nAnns     int64
	categories         []string
	catIDs             map[string]int64
	buf                []byte
	imgStart, annStart bool
}

// category returns the id of a category name, adding it on first sight.
func (c *cocoState) category(name string) int64 {
	if id, ok := c.catIDs[name]; ok {
		return id
	}
	id := int64(len(c.categories))
	c.catIDs[name] = id
	c.categories = append(c.categories, name)
	return id
}

// shapeValue is one region with the type of the control that produced it.
type shapeValue struct {
	polygon bool
	regionValue
}

// shapes returns the item's rectangle and polygon regions in output order.
func shapes(it item, polygons bool) []shapeValue {
	var out []shapeValue
	for _, cv := range it.output {
		isRect := isType(cv.control, "RectangleLabels")
		isPoly := polygons && isType(cv.control, "PolygonLabels")
		if !isRect && !isPoly {
			continue
		}
		for _, v := range cv.values {
			out = append(out, shapeValue{polygon: isPoly, regionValue: v})
		}
	}
	return out
}

// imageSizeOf returns the size of the first region that stored one, with
// that region's raw width and height numbers.
func imageSizeOf(values []shapeValue) (size imageSize, w, h any, ok bool) {
	for _, v := range values {
		if v.hasSize {
			w, _ = v.members.get("original_width")
			h, _ = v.members.get("original_height")
			return v.size, w, h, true
		}
	}
	return imageSize{}, nil, nil, false
}

// addItem writes one image and its annotations to the spools.
func (c *cocoState) addItem(a *archive, it item, key string, opts Options) error {
	values := shapes(it, true)
	if len(values) == 0 {
		return nil
	}
	size, rawW, rawH, ok := imageSizeOf(values)
	if !ok {
		a.warn.add(it.id, "COCO: no original_width/original_height stored on its regions; image and %d region(s) skipped", len(values))
		return nil
	}
	value, _ := dataString(it.data, key)
	fileName, _ := a.copyMedia(opts, it.id, value, "images", nil)
	imageID := c.nImages
	c.nImages++
	img := jsonObject{{"width", rawW}, {"height", rawH}, {"id", imageID}, {"file_name", fileName}}
	if err := c.element(c.images, &c.imgStart, img); err != nil {
		return err
	}
	for _, v := range values {
		labelKey := "rectanglelabels"
		if v.polygon {
			labelKey = "polygonlabels"
		}
		name := v.firstLabel(labelKey)
		if name == "" {
			a.warn.add(it.id, "COCO: region %d has no %s; skipped", v.index, labelKey)
			continue
		}
		vs := size
		if v.hasSize {
			vs = v.size
		}
		ann, err := cocoAnnotation(v, vs)
		if err != nil {
			a.warn.add(it.id, "COCO: region %d: %v; skipped", v.index, err)
			continue
		}
		ann = append(jsonObject{{"id", c.nAnns}, {"image_id", imageID}, {"category_id", c.category(name)}}, ann...)
		c.nAnns++
		if err := c.element(c.anns, &c.annStart, ann); err != nil {
			return err
		}
	}
	return nil
}

// cocoAnnotation returns the geometry members of an annotation:
// segmentation, bbox, ignore, iscrowd, area.
func cocoAnnotation(v shapeValue, size imageSize) (jsonObject, error) {
	if !v.polygon {
		r, err := parseRect(v.raw)
		if err != nil {
			return nil, err
		}
		x, y, w, h := r.pixelBox(size).intBox()
		return jsonObject{
			{"segmentation", []any{}}, {"bbox", []any{x, y, w, h}},
			{"ignore", int64(0)}, {"iscrowd", int64(0)}, {"area", w * h},
		}, nil
	}
	pts, err := parsePoints(v.member("points"))
	if err != nil {
		return nil, err
	}
	px := polygonPixels(pts, size)
	seg := make([]any, 0, 2*len(px))
	for _, p := range px {
		seg = append(seg, p.X, p.Y)
	}
	b := boundsOf(px)
	return jsonObject{
		{"segmentation", []any{seg}}, {"bbox", []any{b.X, b.Y, b.W, b.H}},
		{"ignore", int64(0)}, {"iscrowd", int64(0)}, {"area", polygonArea(px)},
	}, nil
}

// element appends one list element, indented as in the final file.
func (c *cocoState) element(sp *spool, started *bool, v jsonObject) error {
	c.buf = c.buf[:0]
	if *started {
		c.buf = append(c.buf, ',')
	}
	*started = true
	c.buf = append(c.buf, "\n    "...)
	var err error
	if c.buf, err = appendPy(c.buf, v, styleIndentASCII, 2); err != nil {
		return err
	}
	_, err = sp.Write(c.buf)
	return err
}

// assemble writes the final result.json from the spools.
func (c *cocoState) assemble(w io.Writer, opts Options) error {
	// Python's json.dump(indent=2) layout: each list element on its own
	// line at depth 2, an empty list as [].
	list := func(name string, body func() error, empty bool) error {
		if _, err := io.WriteString(w, "\n  \""+name+"\": ["); err != nil {
			return fmt.Errorf("write result.json: %w", err)
		}
		if !empty {
			if err := body(); err != nil {
				return err
			}
			if _, err := io.WriteString(w, "\n  "); err != nil {
				return fmt.Errorf("write result.json: %w", err)
			}
		}
		if _, err := io.WriteString(w, "],"); err != nil {
			return fmt.Errorf("write result.json: %w", err)
		}
		return nil
	}
	if _, err := io.WriteString(w, "{"); err != nil {
		return fmt.Errorf("write result.json: %w", err)
	}
	if err := list("images", func() error { return c.images.copyTo(w) }, c.images.size() == 0); err != nil {
		return err
	}
	categories := func() error {
		var b []byte
		var err error
		for i, name := range c.categories {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n    "...)
			if b, err = appendPy(b, jsonObject{{"id", int64(i)}, {"name", name}}, styleIndentASCII, 2); err != nil {
				return err
			}
		}
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("write result.json: %w", err)
		}
		return nil
	}
	if err := list("categories", categories, len(c.categories) == 0); err != nil {
		return err
	}
	if err := list("annotations", func() error { return c.anns.copyTo(w) }, c.anns.size() == 0); err != nil {
		return err
	}
	info := jsonObject{{"year", int64(opts.now().Year())}, {"version", "1.0"}, {"contributor", "Label Studio"}}
	b, err := appendPy([]byte("\n  \"info\": "), info, styleIndentASCII, 1)
	if err != nil {
		return err
	}
	b = append(b, "\n}"...)
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write result.json: %w", err)
	}
	return nil
}
