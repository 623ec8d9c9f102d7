package exports

import (
	"math"
	"testing"
)

// The expected numbers below were computed by hand; the working is in the
// comments. The same regions appear in testdata/{COCO,VOC,YOLO}/bbox.
func TestRectPixelBoxByHand(t *testing.T) {
	cases := []struct {
		name       string
		r          rectValue
		size       imageSize
		x, y, w, h int64
	}{
		// exports.md §8: 37.375/100*800 = 299, 1.2/100*501 = 6.012 → 6,
		// 47.125/100*800 = 377, 51.9/100*501 = 260.019 → 260.
		{"spec example", rectValue{X: 37.375, Y: 1.2, W: 47.125, H: 51.9}, imageSize{800, 501}, 299, 6, 377, 260},
		// 36% of 800 = 288, 60% of 501 = 300.6 → 300, 16.5% of 800 = 132,
		// 18% of 501 = 90.18 → 90.
		{"second spec box", rectValue{X: 36, Y: 60, W: 16.5, H: 18}, imageSize{800, 501}, 288, 300, 132, 90},
		// Negative size: x = 50% of 200 = 100, w = −20% = −40 → x 60, w 40;
		// y = 50, h = −10 → y 40, h 10.
		{"negative size", rectValue{X: 50, Y: 50, W: -20, H: -10}, imageSize{200, 100}, 60, 40, 40, 10},
		// 90° clockwise about the top-left (20, 10) of a 40×10 px box: the
		// width now runs down, the height to the left → corners (20,10),
		// (20,50), (10,50), (10,10) → box x 10, y 10, w 10, h 40.
		{"rotated 90", rectValue{X: 10, Y: 10, W: 20, H: 10, Rotation: 90}, imageSize{200, 100}, 10, 10, 10, 40},
		// 180°: corners (20,10), (−20,10), (−20,0), (20,0) → x −20, y 0,
		// w 40, h 10.
		{"rotated 180", rectValue{X: 10, Y: 10, W: 20, H: 10, Rotation: 180}, imageSize{200, 100}, -20, 0, 40, 10},
		// 270° (= −90°): corners (20,10), (20,−30), (30,−30), (30,10) →
		// x 20, y −30, w 10, h 40.
		{"rotated 270", rectValue{X: 10, Y: 10, W: 20, H: 10, Rotation: -90}, imageSize{200, 100}, 20, -30, 10, 40},
		// 45° about (100, 20) of a 20×10 px box, s = c = √2/2 ≈ 0.7071:
		// corners (100,20), (114.14,34.14), (107.07,41.21), (92.93,27.07) →
		// min (92.93, 20), max (114.14, 41.21) → x 92, y 20, w 21.21 → 21,
		// h 21.21 → 21.
		{"rotated 45", rectValue{X: 50, Y: 20, W: 10, H: 10, Rotation: 45}, imageSize{200, 100}, 92, 20, 21, 21},
		// A full turn is no rotation: the exact unrotated formula applies.
		{"rotated 360", rectValue{X: 37.375, Y: 1.2, W: 47.125, H: 51.9, Rotation: 360}, imageSize{800, 501}, 299, 6, 377, 260},
	}
	for _, tc := range cases {
		x, y, w, h := tc.r.pixelBox(tc.size).intBox()
		if x != tc.x || y != tc.y || w != tc.w || h != tc.h {
			t.Errorf("%s: got [%d %d %d %d], want [%d %d %d %d]", tc.name, x, y, w, h, tc.x, tc.y, tc.w, tc.h)
		}
	}
}

func TestPolygonByHand(t *testing.T) {
	// exports.md §8: 200×100 image, points (10,20), (50,20), (50,60) % →
	// (20,20), (100,20), (100,60) px; bbox 20,20,80,40; area ½·80·40 = 1600.
	px := polygonPixels([]point{{10, 20}, {50, 20}, {50, 60}}, imageSize{200, 100})
	want := []point{{20, 20}, {100, 20}, {100, 60}}
	for i := range want {
		if px[i] != want[i] {
			t.Fatalf("point %d: got %v, want %v", i, px[i], want[i])
		}
	}
	if b := boundsOf(px); b != (box{20, 20, 80, 40}) {
		t.Errorf("bbox %v", b)
	}
	if a := polygonArea(px); a != 1600 {
		t.Errorf("area %v", a)
	}
	// The winding direction does not matter; a unit square has area 1.
	if a := polygonArea([]point{{0, 0}, {0, 1}, {1, 1}, {1, 0}}); a != 1 {
		t.Errorf("square area %v", a)
	}
	// Keypoints convert like polygon points: (25%, 50%) of 640×480.
	if p := percentToPixels(point{25, 50}, imageSize{640, 480}); p != (point{160, 240}) {
		t.Errorf("keypoint %v", p)
	}
}

func TestYOLOBoxByHand(t *testing.T) {
	cases := []struct {
		name           string
		r              rectValue
		size           imageSize
		hasSize        bool
		xc, yc, w, h   float64
		problemPresent bool
	}{
		// (37.375 + 47.125/2)/100 = 0.609375, (1.2 + 51.9/2)/100 = 0.2715,
		// 0.47125, 0.519 — no image size needed.
		{"unrotated", rectValue{X: 37.375, Y: 1.2, W: 47.125, H: 51.9}, imageSize{}, false, 0.609375, 0.2715, 0.47125, 0.519, false},
		// Negative: x 50−20 = 30, w 20 → xc 0.4; y 50−10 = 40, h 10 → yc 0.45.
		{"negative", rectValue{X: 50, Y: 50, W: -20, H: -10}, imageSize{}, false, 0.4, 0.45, 0.2, 0.1, false},
		// Rotated 90 on 200×100: box 10..20 × 10..50 px → xc 15/200 =
		// 0.075, yc 30/100 = 0.3, w 10/200 = 0.05, h 40/100 = 0.4.
		{"rotated", rectValue{X: 10, Y: 10, W: 20, H: 10, Rotation: 90}, imageSize{200, 100}, true, 0.075, 0.3, 0.05, 0.4, false},
		{"rotated without size", rectValue{X: 10, Y: 10, W: 20, H: 10, Rotation: 90}, imageSize{}, false, 0, 0, 0, 0, true},
		// 90..110 % clipped to 0.9..1 → centre 0.95, size 0.1.
		{"clipped", rectValue{X: 90, Y: 90, W: 20, H: 20}, imageSize{}, false, 0.95, 0.95, 0.1, 0.1, false},
		{"outside", rectValue{X: 120, Y: 10, W: 10, H: 10}, imageSize{}, false, 0, 0, 0, 0, true},
	}
	for _, tc := range cases {
		xc, yc, w, h, problem := yoloBox(tc.r, tc.size, tc.hasSize)
		if (problem != "") != tc.problemPresent {
			t.Errorf("%s: problem %q", tc.name, problem)
			continue
		}
		for _, p := range [][2]float64{{xc, tc.xc}, {yc, tc.yc}, {w, tc.w}, {h, tc.h}} {
			if math.Abs(p[0]-p[1]) > 1e-12 {
				t.Errorf("%s: got %v %v %v %v, want %v %v %v %v", tc.name, xc, yc, w, h, tc.xc, tc.yc, tc.w, tc.h)
				break
			}
		}
	}
}

func TestTruncInt(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want int64
	}{{299.9999, 299}, {-0.5, 0}, {-1.5, -1}, {math.NaN(), 0}, {math.Inf(1), 1 << 53}, {-1e300, -(1 << 53)}} {
		if got := truncInt(tc.in); got != tc.want {
			t.Errorf("truncInt(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
