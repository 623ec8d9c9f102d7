package exports

import (
	"bytes"
	"math/rand"
	"testing"
)

// bitWriter is the test's encoder side of bitReader.
type bitWriter struct {
	buf  []byte
	nbit uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		if w.nbit%8 == 0 {
			w.buf = append(w.buf, 0)
		}
		if v>>uint(i)&1 == 1 {
			w.buf[len(w.buf)-1] |= 0x80 >> (w.nbit % 8)
		}
		w.nbit++
	}
}

// encodeRLE packs values the way @thi.ng/rle-pack does (exports.md §10.1),
// with the frontend's defaults: word size 8 and run-length field sizes
// 3, 4, 8, 16 bits. Runs of two or more equal values become repeat chunks,
// the rest literal chunks.
func encodeRLE(values []byte) []byte {
	sizes := [4]uint{3, 4, 8, 16}
	w := &bitWriter{}
	w.write(uint32(len(values)), 32)
	w.write(8-1, 5)
	for _, s := range sizes {
		w.write(uint32(s-1), 4)
	}
	sel := func(n int) uint32 {
		for k, s := range sizes {
			if n-1 < 1<<s {
				return uint32(k)
			}
		}
		return 3
	}
	const maxRun = 1 << 16
	for i := 0; i < len(values); {
		j := i + 1
		for j < len(values) && values[j] == values[i] && j-i < maxRun {
			j++
		}
		if j-i >= 2 {
			s := sel(j - i)
			w.write(1, 1)
			w.write(s, 2)
			w.write(uint32(j-i-1), sizes[s])
			w.write(uint32(values[i]), 8)
			i = j
			continue
		}
		// literal chunk up to the next run of two
		j = i + 1
		for j < len(values) && j-i < maxRun && (j+1 >= len(values) || values[j] != values[j+1]) {
			j++
		}
		s := sel(j - i)
		w.write(0, 1)
		w.write(s, 2)
		w.write(uint32(j-i-1), sizes[s])
		for _, v := range values[i:j] {
			w.write(uint32(v), 8)
		}
		i = j
	}
	return w.buf
}

// rgbaOf expands an alpha mask to RGBA values as the frontend stores it
// (colour channels set to a fixed colour where alpha is non-zero).
func rgbaOf(alpha []byte) []byte {
	out := make([]byte, 0, 4*len(alpha))
	for _, a := range alpha {
		if a == 0 {
			out = append(out, 0, 0, 0, 0)
		} else {
			out = append(out, 255, 0, 0, a)
		}
	}
	return out
}

func TestDecodeBrushAlphaRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, tc := range []struct{ w, h int }{{1, 1}, {4, 3}, {37, 11}, {300, 200}} {
		alpha := make([]byte, tc.w*tc.h)
		for i := range alpha {
			// blobs of runs plus noise, so both chunk kinds occur
			switch {
			case i%97 < 40:
				alpha[i] = 255
			case rng.Intn(5) == 0:
				alpha[i] = byte(rng.Intn(256))
			}
		}
		rle := encodeRLE(rgbaOf(alpha))
		got, err := decodeBrushAlpha(rle, tc.w, tc.h)
		if err != nil {
			t.Fatalf("%dx%d: %v", tc.w, tc.h, err)
		}
		if !bytes.Equal(got, alpha) {
			t.Fatalf("%dx%d: decoded mask differs", tc.w, tc.h)
		}
	}
}

// TestDecodeBrushAlphaHandMade decodes a stream built bit by bit: 8 values
// (2 pixels), word size 8, sizes 3,4,8,16; a repeat chunk of 3 zeros, a
// literal chunk [7, 0, 0, 0, 9].
func TestDecodeBrushAlphaHandMade(t *testing.T) {
	w := &bitWriter{}
	w.write(8, 32)
	w.write(7, 5)
	for _, s := range []uint32{2, 3, 7, 15} {
		w.write(s, 4)
	}
	w.write(1, 1) // repeat
	w.write(0, 2) // 3-bit count
	w.write(2, 3) // 3 values
	w.write(0, 8) // of 0
	w.write(0, 1) // literal
	w.write(0, 2)
	w.write(4, 3) // 5 values
	for _, v := range []uint32{7, 0, 0, 0, 9} {
		w.write(v, 8)
	}
	// values: 0 0 0 7 | 0 0 0 9 → alpha 7, 9
	got, err := decodeBrushAlpha(w.buf, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, []byte{7, 9}) {
		t.Fatalf("got %v, want [7 9]", got)
	}
}

func TestDecodeBrushAlphaRejects(t *testing.T) {
	good := encodeRLE(rgbaOf([]byte{1, 2, 3, 4, 5, 6}))
	cases := map[string]struct {
		rle  []byte
		w, h int
	}{
		"empty":          {nil, 3, 2},
		"truncated":      {good[:len(good)-2], 3, 2},
		"wrong size":     {good, 2, 2},
		"zero size":      {good, 0, 2},
		"huge size":      {good, 1 << 20, 1 << 20},
		"header only":    {good[:6], 3, 2},
		"garbage header": {[]byte{0xff, 0xff, 0xff, 0xff, 0xff}, 3, 2},
	}
	for name, tc := range cases {
		if _, err := decodeBrushAlpha(tc.rle, tc.w, tc.h); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzDecodeBrushAlpha(f *testing.F) {
	f.Add(encodeRLE(rgbaOf([]byte{1, 2, 3, 4, 5, 6})), 3, 2)
	f.Add([]byte{0, 0, 0, 4, 0xff, 0xff, 0xff}, 1, 1)
	f.Fuzz(func(t *testing.T, rle []byte, w, h int) {
		if w > 64 || h > 64 {
			return
		}
		mask, err := decodeBrushAlpha(rle, w, h)
		if err == nil && len(mask) != w*h {
			t.Fatalf("mask of %d bytes for %dx%d", len(mask), w, h)
		}
	})
}

func TestNPYHeader(t *testing.T) {
	for _, shape := range [][2]int{{1, 1}, {3, 4}, {501, 800}, {99999, 99999}} {
		h, w := shape[0], shape[1]
		if len(npyHeader(h, w))%64 != 0 {
			t.Errorf("%v: header length %d not a multiple of 64", shape, len(npyHeader(h, w)))
		}
		if h*w < 1000 {
			gh, gw, _, err := readNPY(append(npyHeader(h, w), make([]byte, h*w)...))
			if err != nil || gh != h || gw != w {
				t.Errorf("%v: read back %d×%d, %v", shape, gh, gw, err)
			}
		}
	}
	want := "\x93NUMPY\x01\x00\x76\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3, 4), }"
	if got := string(npyHeader(3, 4)); got[:len(want)] != want || got[len(got)-1] != '\n' {
		t.Errorf("header %q", got)
	}
}
