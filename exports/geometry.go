package exports

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Geometry of image regions. The labeling frontend stores every image
// region in percent of the image (0–100 on each axis, origin at the top-left
// corner, y growing downwards) and, on each result item, the size of the
// image in pixels as it was when labeled (original_width, original_height).
// All pixel coordinates below come from that stored size: no image is ever
// downloaded or opened to learn its size. A region without a stored size is
// reported by the caller, never guessed.
//
// Rectangles: x, y is the top-left corner, width and height may be negative
// (a box dragged up or left), and rotation is in degrees, clockwise on
// screen, about the top-left corner (x, y) — the frontend's Konva rectangle
// rotates about its origin. Rotation is applied in pixels, since a percent
// unit is not the same length on both axes. Formats that want an
// axis-aligned box (COCO, VOC, YOLO) get the axis-aligned bounding box of
// the rotated rectangle; an unrotated box comes out exactly as in 0.8.1.
//
// Polygons are lists of [x, y] percent points; keypoints are single [x, y]
// percent points. Both convert with percentToPixels.

// imageSize is an image's size in pixels.
type imageSize struct{ W, H float64 }

// point is a position, in percent or in pixels depending on context.
type point struct{ X, Y float64 }

// box is an axis-aligned box: top-left corner and a non-negative size.
type box struct{ X, Y, W, H float64 }

// rectValue is a rectangle region as stored: percent coordinates, signed
// size and rotation in degrees.
type rectValue struct {
	X, Y, W, H float64
	Rotation   float64
}

// errNoGeometry is a region whose value lacks the numbers its shape needs.
var errNoGeometry = errors.New("region has no valid coordinates")

// parseRect reads x, y, width, height and rotation (default 0) from a
// rectangle region's value.
func parseRect(raw json.RawMessage) (rectValue, error) {
	var v struct {
		X, Y, Width, Height *float64
		Rotation            *float64
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return rectValue{}, fmt.Errorf("%w: %w", errNoGeometry, err)
	}
	if v.X == nil || v.Y == nil || v.Width == nil || v.Height == nil {
		return rectValue{}, errNoGeometry
	}
	r := rectValue{X: *v.X, Y: *v.Y, W: *v.Width, H: *v.Height}
	if v.Rotation != nil {
		r.Rotation = *v.Rotation
	}
	return r, nil
}

// rotated reports whether the rectangle is turned by other than a multiple
// of 360 degrees.
func (r rectValue) rotated() bool {
	m := math.Mod(r.Rotation, 360)
	return m != 0 && !math.IsNaN(m)
}

// percentToPixels converts a percent point to pixels: p / 100 * size, in
// this order, as the converter computes it.
func percentToPixels(p point, size imageSize) point {
	return point{X: p.X / 100 * size.W, Y: p.Y / 100 * size.H}
}

// sincosDeg returns the sine and cosine of an angle in degrees, exact for
// multiples of 90 degrees so that quarter turns give whole pixels.
func sincosDeg(deg float64) (sin, cos float64) {
	m := math.Mod(deg, 360)
	if m < 0 {
		m += 360
	}
	switch m {
	case 0:
		return 0, 1
	case 90:
		return 1, 0
	case 180:
		return 0, -1
	case 270:
		return -1, 0
	}
	return math.Sincos(m * math.Pi / 180)
}

// corners returns the rectangle's four corners in pixels, rotated about the
// top-left corner: (x, y), then along the width, the far corner, and along
// the height.
func (r rectValue) corners(size imageSize) [4]point {
	o := percentToPixels(point{r.X, r.Y}, size)
	w, h := r.W/100*size.W, r.H/100*size.H
	sin, cos := sincosDeg(r.Rotation)
	at := func(dx, dy float64) point {
		return point{X: o.X + dx*cos - dy*sin, Y: o.Y + dx*sin + dy*cos}
	}
	return [4]point{at(0, 0), at(w, 0), at(w, h), at(0, h)}
}

// pixelBox returns the rectangle as an axis-aligned pixel box. Unrotated,
// x = x% / 100 * width and w = width% / 100 * width exactly as the converter
// computes them, with a negative size moved to the other side of the
// corner. Rotated, it is the bounding box of the rotated corners.
func (r rectValue) pixelBox(size imageSize) box {
	if r.rotated() {
		c := r.corners(size)
		return boundsOf(c[:])
	}
	o := percentToPixels(point{r.X, r.Y}, size)
	b := box{X: o.X, Y: o.Y, W: r.W / 100 * size.W, H: r.H / 100 * size.H}
	if b.W < 0 {
		b.X, b.W = b.X+b.W, -b.W
	}
	if b.H < 0 {
		b.Y, b.H = b.Y+b.H, -b.H
	}
	return b
}

// unitBox returns the rectangle as an axis-aligned box in fractions of the
// image (0–1). Unrotated it needs no image size (ok even when hasSize is
// false); rotated it needs the size to rotate in pixels, and ok is false
// without one.
func (r rectValue) unitBox(size imageSize, hasSize bool) (box, bool) {
	if r.rotated() {
		if !hasSize {
			return box{}, false
		}
		p := r.pixelBox(size)
		return box{X: p.X / size.W, Y: p.Y / size.H, W: p.W / size.W, H: p.H / size.H}, true
	}
	x, y, w, h := r.X, r.Y, r.W, r.H
	if w < 0 {
		x, w = x+w, -w
	}
	if h < 0 {
		y, h = y+h, -h
	}
	return box{X: x / 100, Y: y / 100, W: w / 100, H: h / 100}, true
}

// truncInt converts to an integer by truncation toward zero, as Python's
// int() does; values beyond ±2^53 are clamped and NaN is 0.
func truncInt(f float64) int64 {
	const limit = 1 << 53
	switch {
	case math.IsNaN(f):
		return 0
	case f > limit:
		return limit
	case f < -limit:
		return -limit
	}
	return int64(math.Trunc(f))
}

// intBox truncates each of x, y, w, h separately (the converter's
// int(x / 100 * width) and so on), so w is not max − min of truncated edges.
func (b box) intBox() (x, y, w, h int64) {
	return truncInt(b.X), truncInt(b.Y), truncInt(b.W), truncInt(b.H)
}

// parsePoints reads a polygon's points: a list of [x, y] percent pairs.
func parsePoints(raw json.RawMessage) ([]point, error) {
	var pairs [][]float64
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("%w: %w", errNoGeometry, err)
	}
	pts := make([]point, 0, len(pairs))
	for _, p := range pairs {
		if len(p) < 2 {
			return nil, fmt.Errorf("%w: point with %d coordinates", errNoGeometry, len(p))
		}
		pts = append(pts, point{p[0], p[1]})
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("%w: no points", errNoGeometry)
	}
	return pts, nil
}

// polygonPixels converts percent points to pixels.
func polygonPixels(pts []point, size imageSize) []point {
	out := make([]point, len(pts))
	for i, p := range pts {
		out[i] = percentToPixels(p, size)
	}
	return out
}

// boundsOf returns the axis-aligned bounding box of points: min corner and
// max − min size.
func boundsOf(pts []point) box {
	if len(pts) == 0 {
		return box{}
	}
	minX, minY, maxX, maxY := pts[0].X, pts[0].Y, pts[0].X, pts[0].Y
	for _, p := range pts[1:] {
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
		minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
	}
	return box{X: minX, Y: minY, W: maxX - minX, H: maxY - minY}
}

// polygonArea returns the area enclosed by a simple polygon (shoelace
// formula, absolute value).
func polygonArea(pts []point) float64 {
	var s float64
	for i, p := range pts {
		q := pts[(i+1)%len(pts)]
		s += p.X*q.Y - q.X*p.Y
	}
	return math.Abs(s) / 2
}

// yoloBox returns a box's centre and size in fractions of the image,
// clipped to it, or a description of why it cannot. A box inside the image
// comes out exactly as the later converter computes it:
// ((x + width/2) / 100, (y + height/2) / 100, width / 100, height / 100).
func yoloBox(r rectValue, size imageSize, hasSize bool) (xc, yc, w, h float64, problem string) {
	u, ok := r.unitBox(size, hasSize)
	if !ok {
		return 0, 0, 0, 0, "is rotated but has no original_width/original_height"
	}
	x0, y0, x1, y1 := u.X, u.Y, u.X+u.W, u.Y+u.H
	if math.IsNaN(x0+y0+x1+y1) || math.IsInf(x0+y0+x1+y1, 0) {
		return 0, 0, 0, 0, "has invalid coordinates"
	}
	if x0 >= 0 && y0 >= 0 && x1 <= 1 && y1 <= 1 {
		if !r.rotated() {
			x, y, pw, ph := r.X, r.Y, r.W, r.H
			if pw < 0 {
				x, pw = x+pw, -pw
			}
			if ph < 0 {
				y, ph = y+ph, -ph
			}
			return (x + pw/2) / 100, (y + ph/2) / 100, pw / 100, ph / 100, ""
		}
		return u.X + u.W/2, u.Y + u.H/2, u.W, u.H, ""
	}
	x0, y0 = math.Max(x0, 0), math.Max(y0, 0)
	x1, y1 = math.Min(x1, 1), math.Min(y1, 1)
	if !(x1 > x0 && y1 > y0) {
		return 0, 0, 0, 0, "lies outside the image"
	}
	return (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, ""
}
