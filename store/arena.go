package store

import "encoding/binary"

// arena hands out byte slices carved from large blocks, so that a big
// import makes a few allocations instead of one per key and value. The
// slices stay valid (bbolt keeps them until the commit) because a block is
// never reused or moved: a value that does not fit starts a new block.
type arena struct {
	block []byte
}

const arenaBlock = 256 << 10

// reserve makes the next block hold n bytes, when that is less than a
// whole block: a small import then allocates what it needs, not 256 KiB.
func (a *arena) reserve(n int) {
	if n < arenaBlock && cap(a.block)-len(a.block) < n {
		a.block = make([]byte, 0, n)
	}
}

// alloc returns a zero-length slice with capacity n.
func (a *arena) alloc(n int) []byte {
	if n > arenaBlock/4 {
		return make([]byte, 0, n)
	}
	if cap(a.block)-len(a.block) < n {
		a.block = make([]byte, 0, arenaBlock)
	}
	s := a.block[len(a.block) : len(a.block) : len(a.block)+n]
	a.block = a.block[:len(a.block)+n]
	return s
}

// key returns an 8-byte big-endian key for v.
func (a *arena) key(v uint64) []byte {
	b := a.alloc(8)[:8]
	binary.BigEndian.PutUint64(b, v)
	return b
}
