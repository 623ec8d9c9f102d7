package store

import (
	"bytes"
	"encoding/binary"

	json "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"
)

// Content hashes (for skip_duplicates) are kept per id block too: bucket
// hash_blocks maps a block number to records of hashRecord bytes, each the
// task's id within the block (2 bytes, big-endian) followed by the first 16
// bytes of the SHA-256 of its data (see DataHash), in no particular order.
// An import appends to one or two values instead of writing a key per task.
//
// Only imports that skip duplicates read the hashes, and most imports do
// not; so an import that does not skip them does not hash its tasks
// either (hashing and storing the hashes was about a sixth of the CPU of
// an import and a few pages of each batch). It records instead, in meta,
// the smallest id it left unhashed (the hash horizon). The next import
// that skips duplicates first hashes every task from the horizon on
// (hashTasks) and removes it. Hashes are only ever missing from the
// horizon on: an import gives ids above every existing task, deleting a
// task drops its record if it has one, and deleting all tasks empties
// hash_blocks and removes the horizon.

const hashRecord = 2 + 16

// hashBatch gathers the records of new tasks per block.
type hashBatch map[uint64][]byte

func (h hashBatch) add(id int64, sum [16]byte) {
	blk := uint64(id) >> blockShift
	h[blk] = binary.BigEndian.AppendUint16(h[blk], uint16(id&blockMask))
	h[blk] = append(h[blk], sum[:]...)
}

// flush appends the gathered records to the bucket and empties the batch.
func (h hashBatch) flush(b *bolt.Bucket) error {
	for blk, recs := range h {
		k := u64(blk)
		old := b.Get(k)
		v := make([]byte, 0, len(old)+len(recs))
		v = append(append(v, old...), recs...)
		if err := b.Put(k, v); err != nil {
			return err
		}
		delete(h, blk)
	}
	return nil
}

// dropHash removes the hash record of a task.
func dropHash(b *bolt.Bucket, id int64) error {
	k := blockKey(id)
	old := b.Get(k)
	var low [2]byte
	binary.BigEndian.PutUint16(low[:], uint16(id&blockMask))
	for i := 0; i+hashRecord <= len(old); i += hashRecord {
		if !bytes.Equal(old[i:i+2], low[:]) {
			continue
		}
		if len(old) == hashRecord {
			return b.Delete(k)
		}
		v := make([]byte, 0, len(old)-hashRecord)
		v = append(append(v, old[:i]...), old[i+hashRecord:]...)
		return b.Put(k, v)
	}
	return nil
}

// eachHash calls fn with every stored content hash.
func eachHash(b *bolt.Bucket, fn func([16]byte)) {
	b.ForEach(func(_, v []byte) error {
		for i := 0; i+hashRecord <= len(v); i += hashRecord {
			fn([16]byte(v[i+2 : i+hashRecord]))
		}
		return nil
	})
}

// deferHashes moves the hash horizon down to id.
func (t *ptx) deferHashes(id int64) error { return t.lowerHorizon(keyHashHorizon, id) }

// hashTasks adds to hash_blocks the hash of every task from the horizon
// on, and removes the horizon.
func (t *ptx) hashTasks() error {
	h, ok := t.horizon(keyHashHorizon)
	if !ok {
		return nil
	}
	hb := t.bk(bucketHashBlocks)
	hb.FillPercent = 1
	batch := hashBatch{}
	blk := uint64(0)
	c := t.bk(bucketTasks).Cursor()
	for k, v := c.Seek(idKey(h)); k != nil; k, v = c.Next() {
		id := keyID(k)
		if b := uint64(id) >> blockShift; b != blk {
			if err := batch.flush(hb); err != nil {
				return err
			}
			blk = b
		}
		var doc struct {
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(v, &doc) != nil {
			continue // data that cannot be read cannot equal an import's
		}
		if sum, err := DataHash(doc.Data); err == nil {
			batch.add(id, sum)
		}
	}
	if err := batch.flush(hb); err != nil {
		return err
	}
	return t.bk(bucketMeta).Delete(keyHashHorizon)
}
