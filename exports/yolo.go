package exports

import (
	"archive/zip"
	"strconv"
	"strings"

	"labelstudio/store"
)

// yoloFormat is YOLO (not in Label Studio 0.8.1): classes.txt with one class
// name per line — the labels of the config's RectangleLabels controls in
// config order, then any label found only in completions, in order of first
// appearance — and labels/<image>.txt per task with a completion, one line
// "<class> <x_center> <y_center> <width> <height>" per box in fractions of
// the image (0–1). A task without boxes gets an empty file. An images/
// directory holds the images when Options.Media provides them.
//
// Unrotated boxes need no image size: (x + width/2) / 100 and so on, from
// the stored percentages, with negative sizes normalised. A rotated box
// becomes the axis-aligned bounding box of the rotated rectangle, which
// needs the stored original size; without it the box is skipped and
// reported. Boxes reaching outside the image are clipped to it (YOLO
// trainers reject coordinates outside 0–1); a box wholly outside is
// skipped and reported.
type yoloFormat struct{}

// Name returns "YOLO".
func (yoloFormat) Name() string { return "YOLO" }

// Supports reports one data key, an Image input and a RectangleLabels
// control — the converter's rule for YOLO.
func (yoloFormat) Supports(s Schema) bool {
	return s.singleInput([]string{"Image"}, "RectangleLabels")
}

// Write writes classes.txt, labels/ and images/.
func (yoloFormat) Write(zw *zip.Writer, tasks Iterator, s Schema, opts Options) error {
	a := newArchive(zw, opts)
	if err := a.dir("images"); err != nil {
		return err
	}
	if err := a.dir("labels"); err != nil {
		return err
	}
	classes := s.labelsOf("RectangleLabels")
	classID := map[string]int{}
	for i, c := range classes {
		classID[c] = i
	}
	key := s.dataKey()
	err := tasks(func(t store.Task) error {
		it, ok := makeItem(t, s, &a.warn)
		if !ok {
			return nil
		}
		value, _ := dataString(it.data, key)
		a.copyMedia(opts, it.id, value, "images", nil)
		var b strings.Builder
		for _, v := range shapes(it, false) {
			name := v.firstLabel("rectanglelabels")
			if name == "" {
				a.warn.add(it.id, "YOLO: region %d has no rectanglelabels; skipped", v.index)
				continue
			}
			r, err := parseRect(v.raw)
			if err != nil {
				a.warn.add(it.id, "YOLO: region %d: %v; skipped", v.index, err)
				continue
			}
			xc, yc, w, h, problem := yoloBox(r, v.size, v.hasSize)
			if problem != "" {
				a.warn.add(it.id, "YOLO: region %d %s; skipped", v.index, problem)
				continue
			}
			id, known := classID[name]
			if !known {
				id = len(classes)
				classID[name] = id
				classes = append(classes, name)
				a.warn.add(it.id, "YOLO: label %q is not in the config; added as class %d", name, id)
			}
			b.WriteString(strconv.Itoa(id))
			for _, f := range []float64{xc, yc, w, h} {
				b.WriteByte(' ')
				b.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
			}
			b.WriteByte('\n')
		}
		name := a.uniqueName("labels", mediaBaseName(value, it.id), ".txt", it.id)
		return a.file("labels/"+name+".txt", []byte(b.String()), true)
	})
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, c := range classes {
		b.WriteString(strings.NewReplacer("\r", " ", "\n", " ").Replace(c))
		b.WriteByte('\n')
	}
	if err := a.file("classes.txt", []byte(b.String()), true); err != nil {
		return err
	}
	return a.finish()
}
