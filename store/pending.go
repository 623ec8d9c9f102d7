package store

import (
	"math/bits"

	bolt "go.etcd.io/bbolt"
)

// The pending index (tasks without any completion) is a bitmap per id
// block: bucket pending_bits maps a block number (id>>blockShift) to
// blockBytes bytes in which bit i (byte i/8, bit i%8) is set when task
// block<<blockShift + i is pending. A block without pending tasks has no
// key. One value covers 1024 tasks, so an import of a thousand tasks writes
// one or two keys instead of a thousand, and counting or finding the n-th
// pending task reads one small value per block.

// blockBytes is the size of a pending bitmap.
const blockBytes = 1 << blockShift / 8

const blockMask = 1<<blockShift - 1

// setPending adds or removes a task from the pending index.
func (t *ptx) setPending(id int64, pending bool) error {
	b := t.bk(bucketPendingBits)
	k := blockKey(id)
	bm := make([]byte, blockBytes)
	copy(bm, b.Get(k))
	i := id & blockMask
	if pending {
		bm[i>>3] |= 1 << (i & 7)
	} else {
		bm[i>>3] &^= 1 << (i & 7)
	}
	if popcount(bm) == 0 {
		return b.Delete(k)
	}
	return b.Put(k, bm)
}

// pendingBatch gathers pending bits of many tasks and writes each touched
// block once.
type pendingBatch map[uint64][]byte

func (p pendingBatch) set(id int64) {
	blk := uint64(id) >> blockShift
	bm := p[blk]
	if bm == nil {
		bm = make([]byte, blockBytes)
		p[blk] = bm
	}
	i := id & blockMask
	bm[i>>3] |= 1 << (i & 7)
}

// flush ors the gathered bits into the bucket and empties the batch.
func (p pendingBatch) flush(b *bolt.Bucket) error {
	for blk, bm := range p {
		k := u64(blk)
		for i, v := range b.Get(k) {
			bm[i] |= v
		}
		if err := b.Put(k, bm); err != nil {
			return err
		}
		delete(p, blk)
	}
	return nil
}

func popcount(bm []byte) int {
	n := 0
	for len(bm) >= 8 {
		n += bits.OnesCount64(uint64(bm[0]) | uint64(bm[1])<<8 | uint64(bm[2])<<16 | uint64(bm[3])<<24 |
			uint64(bm[4])<<32 | uint64(bm[5])<<40 | uint64(bm[6])<<48 | uint64(bm[7])<<56)
		bm = bm[8:]
	}
	for _, v := range bm {
		n += bits.OnesCount8(v)
	}
	return n
}

// nextBit returns the first set bit at or after i in bm, or -1.
func nextBit(bm []byte, i int) int {
	for ; i < len(bm)*8; i++ {
		if i&7 == 0 && bm[i>>3] == 0 {
			i += 7
			continue
		}
		if bm[i>>3]&(1<<(i&7)) != 0 {
			return i
		}
	}
	return -1
}

// pendingIter walks the pending task ids in ascending order.
type pendingIter struct {
	c   *bolt.Cursor
	blk uint64
	bm  []byte
	bit int
}

// pendingFrom returns an iterator positioned at the k-th (0-based) pending
// task; its next returns -1 at once when k is out of range.
func (t *ptx) pendingFrom(k int64) *pendingIter {
	it := &pendingIter{c: t.bk(bucketPendingBits).Cursor()}
	if k < 0 {
		return it
	}
	var acc int64
	for bk, bv := it.c.First(); bk != nil; bk, bv = it.c.Next() {
		n := int64(popcount(bv))
		if acc+n <= k {
			acc += n
			continue
		}
		it.blk, it.bm = getU64(bk), bv
		bit := nextBit(bv, 0)
		for ; acc < k; acc++ {
			bit = nextBit(bv, bit+1)
		}
		it.bit = bit
		return it
	}
	return it
}

// next returns the current pending task id and advances, or -1 at the end.
func (it *pendingIter) next() int64 {
	for it.bm != nil {
		if it.bit >= 0 {
			id := int64(it.blk<<blockShift) + int64(it.bit)
			it.bit = nextBit(it.bm, it.bit+1)
			return id
		}
		bk, bv := it.c.Next()
		if bk == nil {
			it.bm = nil
			break
		}
		it.blk, it.bm, it.bit = getU64(bk), bv, nextBit(bv, 0)
	}
	return -1
}

// rebuildPending marks every task without a state entry as pending,
// starting from an empty pending bucket.
func (t *ptx) rebuildPending() error {
	pb := t.bk(bucketPendingBits)
	pb.FillPercent = 1
	batch := pendingBatch{}
	cb := t.bk(bucketCompletions)
	c := t.bk(bucketTasks).Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if cb.Get(k) != nil { // the task's summary: it is completed
			continue
		}
		batch.set(keyID(k))
		if len(batch) >= 64 {
			if err := batch.flush(pb); err != nil {
				return err
			}
		}
	}
	return batch.flush(pb)
}
