package exports

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"strconv"
	"strings"

	"labelstudio/store"
)

// brushFormat is BRUSH_TO_NUMPY or BRUSH_TO_PNG (exports.md §10): one file
// per brush region of every completion — cancelled ones included, as in
// 0.8.1 — named task-<task id>-completion-<completion id>-<from_name>-
// <labels joined by "-">-<n>.npy or .png at the zip root, where n counts
// the earlier regions of the same name in that completion. The file holds
// the region's alpha channel as a height × width uint8 array (.npy format
// 1.0) or 8-bit greyscale image (.png).
//
// The size comes from the stored original_width/original_height; a region
// without it, or whose RLE does not decode to exactly that many pixels, is
// skipped and reported. Path separators and other unsafe characters in
// names become "_".
type brushFormat struct{ png bool }

// Name returns "BRUSH_TO_NUMPY" or "BRUSH_TO_PNG".
func (f brushFormat) Name() string {
	if f.png {
		return "BRUSH_TO_PNG"
	}
	return "BRUSH_TO_NUMPY"
}

// Supports reports one data key, an Image input and a BrushLabels control.
func (brushFormat) Supports(s Schema) bool {
	return s.singleInput([]string{"Image"}, "BrushLabels")
}

// brushValue is the part of a brush region's value the export reads.
type brushValue struct {
	Format      *string         `json:"format"`
	RLE         []int           `json:"rle"`
	BrushLabels json.RawMessage `json:"brushlabels"`
}

// Write writes one file per brush region.
func (f brushFormat) Write(zw *zip.Writer, tasks Iterator, _ Schema, opts Options) error {
	a := newArchive(zw, opts)
	ext := ".npy"
	if f.png {
		ext = ".png"
	}
	err := tasks(func(t store.Task) error {
		for _, c := range t.Completions {
			seen := map[string]int{}
			for i, r := range completionResults(t.ID, c, &a.warn) {
				if !strings.EqualFold(r.Type, "brushlabels") {
					continue
				}
				from, _ := fromName(r.FromName)
				var v brushValue
				verr := json.Unmarshal(r.Value, &v)
				parts := []string{safeName(from)}
				for _, l := range stringList(v.BrushLabels) {
					parts = append(parts, safeName(l))
				}
				name := strings.Join(parts, "-")
				n := seen[name]
				seen[name]++
				base := fmt.Sprintf("task-%d-completion-%d-%s-%d", t.ID, c.ID, name, n)
				where := fmt.Sprintf("completion %d: brush region %d (%s)", c.ID, i, base)
				if verr != nil {
					a.warn.add(t.ID, "%s: value is malformed (%v); skipped", where, verr)
					continue
				}
				if v.Format != nil && *v.Format != "rle" {
					a.warn.add(t.ID, "%s: format %q is not rle; skipped", where, *v.Format)
					continue
				}
				w, okW := pixelCount(r.OriginalWidth)
				h, okH := pixelCount(r.OriginalHeight)
				if !okW || !okH {
					a.warn.add(t.ID, "%s: no valid original_width/original_height; skipped", where)
					continue
				}
				rle, ok := rleBytes(v.RLE)
				if !ok {
					a.warn.add(t.ID, "%s: rle holds values that are not bytes; skipped", where)
					continue
				}
				mask, err := decodeBrushAlpha(rle, w, h)
				if err != nil {
					a.warn.add(t.ID, "%s: %v; skipped", where, err)
					continue
				}
				base = a.uniqueName("", base, ext, t.ID)
				if err := f.writeMask(a, base+ext, mask, w, h); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.finish()
}

// writeMask writes a mask as .npy or .png.
func (f brushFormat) writeMask(a *archive, name string, mask []byte, w, h int) error {
	if !f.png {
		out, err := a.create(name, true)
		if err != nil {
			return err
		}
		if _, err := out.Write(npyHeader(h, w)); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if _, err := out.Write(mask); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		return nil
	}
	out, err := a.create(name, false)
	if err != nil {
		return err
	}
	img := &image.Gray{Pix: mask, Stride: w, Rect: image.Rect(0, 0, w, h)}
	if err := png.Encode(out, img); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// pixelCount reads a stored image dimension: a positive whole number.
func pixelCount(raw json.RawMessage) (int, bool) {
	_, f, ok := numberText(raw)
	if !ok || f <= 0 || f != math.Trunc(f) || f > maxMaskPixels {
		return 0, false
	}
	n, err := strconv.Atoi(strconv.FormatFloat(f, 'f', 0, 64))
	return n, err == nil
}

// rleBytes converts the stored rle list to bytes; ok is false when a value
// is outside 0–255.
func rleBytes(list []int) ([]byte, bool) {
	out := make([]byte, len(list))
	for i, b := range list {
		if b < 0 || b > 255 {
			return nil, false
		}
		out[i] = byte(b)
	}
	return out, true
}
