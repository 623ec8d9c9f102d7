package exports

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Brush masks. The labeling frontend stores a brush region as "rle": a list
// of bytes holding an RGBA image of original_width × original_height pixels
// (4 values per pixel, row-major) packed by @thi.ng/rle-pack (exports.md
// §10.1). Exports keep only the alpha channel: one byte per pixel.

// maxMaskPixels bounds the size of a mask the exports decode (64 Mpx, a
// 64 MiB mask), so that a bogus stored size cannot exhaust memory.
const maxMaskPixels = 1 << 26

// errRLE is returned for brush data that does not decode.
var errRLE = errors.New("invalid brush RLE")

// bitReader reads a byte slice as a bit stream, most significant bit first.
type bitReader struct {
	data []byte
	pos  uint64 // bit position
}

// read returns the next n bits (n ≤ 32) as an unsigned number.
func (r *bitReader) read(n uint) (uint32, error) {
	if r.pos+uint64(n) > uint64(len(r.data))*8 {
		return 0, fmt.Errorf("%w: data ends early", errRLE)
	}
	var v uint32
	for n > 0 {
		byteIdx, bit := r.pos/8, uint(r.pos%8)
		take := min(8-bit, n)
		chunk := uint32(r.data[byteIdx]>>(8-bit-take)) & (1<<take - 1)
		v = v<<take | chunk
		r.pos += uint64(take)
		n -= take
	}
	return v, nil
}

// decodeBrushAlpha decodes an RLE brush of a width × height image and
// returns its alpha channel, row-major, one byte per pixel. The RLE must
// hold exactly width × height × 4 values.
func decodeBrushAlpha(rle []byte, width, height int) ([]byte, error) {
	if width <= 0 || height <= 0 || int64(width)*int64(height) > maxMaskPixels {
		return nil, fmt.Errorf("%w: image size %d×%d out of range", errRLE, width, height)
	}
	r := &bitReader{data: rle}
	num, err := r.read(32)
	if err != nil {
		return nil, err
	}
	want := uint64(width) * uint64(height) * 4
	if uint64(num) != want {
		return nil, fmt.Errorf("%w: holds %d values, a %d×%d RGBA image needs %d", errRLE, num, width, height, want)
	}
	ws, err := r.read(5)
	if err != nil {
		return nil, err
	}
	wordSize := uint(ws) + 1
	var sizes [4]uint
	for k := range sizes {
		s, err := r.read(4)
		if err != nil {
			return nil, err
		}
		sizes[k] = uint(s) + 1
	}
	out := make([]byte, width*height)
	for i := uint64(0); i < uint64(num); {
		flag, err := r.read(1)
		if err != nil {
			return nil, err
		}
		sel, err := r.read(2)
		if err != nil {
			return nil, err
		}
		n, err := r.read(sizes[sel])
		if err != nil {
			return nil, err
		}
		j := min(i+1+uint64(n), uint64(num))
		if flag == 1 {
			v, err := r.read(wordSize)
			if err != nil {
				return nil, err
			}
			for p := i + (3-i%4+4)%4; p < j; p += 4 {
				out[p/4] = byte(v)
			}
		} else {
			for p := i; p < j; p++ {
				v, err := r.read(wordSize)
				if err != nil {
					return nil, err
				}
				if p%4 == 3 {
					out[p/4] = byte(v)
				}
			}
		}
		i = j
	}
	return out, nil
}

// npyHeader returns the NumPy .npy (format 1.0) header of a height × width
// uint8 C-order array: magic, version 1.0, little-endian header length, and
// the header dict padded with spaces and ended by a newline so that the data
// starts at a multiple of 64 bytes.
func npyHeader(height, width int) []byte {
	dict := "{'descr': '|u1', 'fortran_order': False, 'shape': (" +
		strconv.Itoa(height) + ", " + strconv.Itoa(width) + "), }"
	const prefix = 10 // magic (6) + version (2) + header length (2)
	total := prefix + len(dict) + 1
	pad := (64 - total%64) % 64
	header := dict + strings.Repeat(" ", pad) + "\n"
	b := make([]byte, 0, prefix+len(header))
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	return append(b, header...)
}
