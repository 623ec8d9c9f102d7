package store

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestPendingBits(t *testing.T) {
	bm := make([]byte, blockBytes)
	for _, i := range []int{0, 7, 8, 63, 64, 1000, 1023} {
		bm[i>>3] |= 1 << (i & 7)
	}
	if n := popcount(bm); n != 7 {
		t.Fatalf("popcount %d, want 7", n)
	}
	var got []int
	for i := nextBit(bm, 0); i >= 0; i = nextBit(bm, i+1) {
		got = append(got, i)
	}
	if want := []int{0, 7, 8, 63, 64, 1000, 1023}; len(got) != len(want) {
		t.Fatalf("bits %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("bits %v, want %v", got, want)
			}
		}
	}
}

// TestUpgradeLayout1 writes a project in layout 1 (a key per pending task
// plus per-block counts), reopens it and checks that layout 2's bitmaps
// say the same.
func TestUpgradeLayout1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path, Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := newProject(t, s)
	var nts []NewTask
	for i := 0; i < 3000; i++ {
		nts = append(nts, textTask(string(rune('a'+i%26))+string(rune('a'+i/26%26))+string(rune('a'+i/676))))
	}
	res, err := s.ImportTasks(p, nts, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := map[int64]bool{}
	for _, id := range res.TaskIDs() {
		if id%3 == 0 || id < 1030 {
			if _, err := s.SaveCompletion(p, id, []byte(`{"result":[]}`), false); err != nil {
				t.Fatal(err)
			}
			done[id] = true
		}
	}
	if err := s.DeleteTask(p, 2999); err != nil {
		t.Fatal(err)
	}
	orders := []string{OrderCompletedAt, OrderCompletedAtDesc, OrderHasCancelled, OrderHasCancelledDesc}
	listed := func() map[string][]int64 {
		out := map[string][]int64{}
		for _, o := range orders {
			page, err := s.ListTasks(p, o, 0, 5000)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range page {
				out[o] = append(out[o], tk.ID)
			}
		}
		return out
	}
	before := listed()
	// Rewrite the pending index as layout 1 had it.
	s = rewriteProject(t, s, p, func(pb *bolt.Bucket) error {
		if err := pb.DeleteBucket(bucketPendingBits); err != nil {
			return err
		}
		pend, err := pb.CreateBucket(layout1Pending)
		if err != nil {
			return err
		}
		blocks, err := pb.CreateBucket(layout1BlocksPending)
		if err != nil {
			return err
		}
		for id := int64(0); id < 2999; id++ {
			if !done[id] {
				if err := pend.Put(idKey(id), nil); err != nil {
					return err
				}
				if err := addCount(blocks, blockKey(id), 1); err != nil {
					return err
				}
			}
		}
		// Content hashes: a key per task.
		dh, err := pb.CreateBucket(layout1DataHash)
		if err != nil {
			return err
		}
		eachHashID(pb.Bucket(bucketHashBlocks), func(id int64, h [16]byte) {
			if err == nil {
				err = dh.Put(idKey(id), h[:])
			}
		})
		if err != nil {
			return err
		}
		if err := pb.DeleteBucket(bucketHashBlocks); err != nil {
			return err
		}
		// The orders: a bucket each, keyed as in layout 1.
		for i, keys := range oldOrderKeys(pb) {
			b, err := pb.CreateBucket(layout1Orders[i])
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := b.Put(k, nil); err != nil {
					return err
				}
			}
		}
		if err := pb.DeleteBucket(bucketOrders); err != nil {
			return err
		}
		// The task summaries: a bucket of their own (layouts 1 and 2).
		moved, err := summariesToState(pb)
		if err != nil {
			return err
		}
		if moved != len(done) {
			t.Errorf("%d summaries in completions, %d completed tasks", moved, len(done))
		}
		// Counters: in meta.
		if err := pb.Bucket(bucketMeta).Put(keyCounters, append([]byte(nil), pb.Get(keyCounters)...)); err != nil {
			return err
		}
		if err := pb.Delete(keyCounters); err != nil {
			return err
		}
		return pb.Bucket(bucketMeta).Put(keySchema, []byte("1"))
	})
	defer s.Close()
	err = s.view(p, func(tx *ptx) error {
		if tx.b.Bucket(layout1Pending) != nil || tx.b.Bucket(layout1BlocksPending) != nil || tx.b.Bucket(layout1DataHash) != nil ||
			tx.b.Bucket(layout2State) != nil {
			t.Error("buckets of the old layouts are still there")
		}
		for id := int64(0); id < 2999; id++ {
			if sum := decodeSummary(tx.state(id)); (sum.n > 0) != done[id] {
				t.Errorf("task %d: summary says %d completions, completed %v", id, sum.n, done[id])
			}
		}
		if tx.b.Bucket(bucketMeta).Get(keyCounters) != nil || tx.b.Get(keyCounters) == nil {
			t.Error("the counters did not move from meta to the project bucket")
		}
		if got := string(tx.b.Bucket(bucketMeta).Get(keySchema)); got != schemaVersion {
			t.Errorf("schema %q, want %q", got, schemaVersion)
		}
		if n, want := tx.pendingCount(), tx.c.Tasks-tx.c.CompletedTasks; n != want {
			t.Errorf("%d pending bits, counters say %d", n, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.CompletedTaskIDs(p)
	if err != nil {
		t.Fatal(err)
	}
	var each []int64
	if err := s.EachTask(p, true, func(tk Task) error {
		if len(tk.Completions) != 1 {
			t.Errorf("task %d comes with %d completions, want 1", tk.ID, len(tk.Completions))
		}
		each = append(each, tk.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(done) || fmt.Sprint(ids) != fmt.Sprint(each) {
		t.Errorf("%d completed task ids and %d from EachTask, want %d of each", len(ids), len(each), len(done))
	}
	for _, id := range ids {
		if !done[id] {
			t.Errorf("task %d listed as completed", id)
		}
	}
	after := listed()
	for _, o := range orders {
		if len(after[o]) != 3000-1 || fmt.Sprint(after[o]) != fmt.Sprint(before[o]) {
			t.Errorf("order %s after the upgrade differs (%d tasks listed)", o, len(after[o]))
		}
	}
	next, err := s.NextTask(p, SamplingSequential)
	if err != nil || next.ID != 1030 {
		t.Fatalf("next task %d (%v), want 1030", next.ID, err)
	}
	// The pending tasks follow the completed ones in completed_at order:
	// page through them and compare with the expected ids.
	var want []int64
	for id := int64(0); id < 2999; id++ {
		if !done[id] {
			want = append(want, id)
		}
	}
	var got []int64
	for off := int64(len(done)); ; off += 97 {
		page, err := s.ListTasks(p, OrderCompletedAt, off, 97)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, tk := range page {
			got = append(got, tk.ID)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d pending tasks listed, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pending task %d is %d, want %d", i, got[i], want[i])
		}
	}
	// The hashes came along: the old tasks are duplicates, a new one is not;
	// the deleted task's data is new again.
	dup := mustImportSkipping(t, s, p, nts[5], nts[2999], textTask("fresh"))
	if dup.Skipped != 1 || len(dup.TaskIDs()) != 2 {
		t.Fatalf("skipped %d, imported %v; want 1 skipped and 2 imported", dup.Skipped, dup.TaskIDs())
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// eachHashID calls fn with every task id and content hash in hash_blocks.
func eachHashID(b *bolt.Bucket, fn func(int64, [16]byte)) {
	b.ForEach(func(k, v []byte) error {
		for i := 0; i+hashRecord <= len(v); i += hashRecord {
			low := int64(v[i])<<8 | int64(v[i+1])
			fn(keyID(k)<<blockShift|low, [16]byte(v[i+2:i+hashRecord]))
		}
		return nil
	})
}

// pendingCount counts the pending tasks by reading every bitmap.
func (t *ptx) pendingCount() int64 {
	var n int64
	t.bk(bucketPendingBits).ForEach(func(_, v []byte) error {
		n += int64(popcount(v))
		return nil
	})
	return n
}

// A layout 2 project: its summaries in bucket state and its descending
// orders kept as keys of their own. Open moves the summaries and drops those
// keys; every order lists as before.
func TestUpgradeLayout2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	s, err := Open(path, Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := newProject(t, s)
	clock := int64(1_600_000_000)
	s.Now = func() time.Time { return time.Unix(clock, 0) }
	var nts []NewTask
	for i := 0; i < 500; i++ {
		nts = append(nts, textTask(fmt.Sprintf("task %d", i)))
	}
	res, err := s.ImportTasks(p, nts, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range res.TaskIDs() {
		if i%4 == 3 {
			continue
		}
		clock += int64(i % 2) // ties in time
		if _, err := s.SaveCompletion(p, id, []byte(`{"result":[]}`), i%5 == 0); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			if _, err := s.SaveCompletion(p, id, []byte(`{"result":[]}`), true); err != nil {
				t.Fatal(err)
			}
		}
	}
	orders := []string{OrderCompletedAt, OrderCompletedAtDesc, OrderHasCancelled, OrderHasCancelledDesc}
	listed := func() string {
		var out []string
		for _, o := range orders {
			for off := int64(0); off < 520; off += 37 {
				page, err := s.ListTasks(p, o, off, 37)
				if err != nil {
					t.Fatal(err)
				}
				for _, tk := range page {
					out = append(out, fmt.Sprint(tk.ID))
				}
			}
			out = append(out, "|")
		}
		return strings.Join(out, " ")
	}
	before := listed()
	s = rewriteProject(t, s, p, func(pb *bolt.Bucket) error {
		// The orders as layout 2 kept them: four prefixes in one bucket.
		old := oldOrderKeys(pb)
		if err := pb.DeleteBucket(bucketOrders); err != nil {
			return err
		}
		orders, err := pb.CreateBucket(bucketOrders)
		if err != nil {
			return err
		}
		for i, prefix := range []byte{orderCompleted, layout2CompletedDesc, orderCancelled, layout2CancelledDesc} {
			for _, k := range old[i] {
				if err := orders.Put(cat([]byte{prefix}, k), nil); err != nil {
					return err
				}
			}
		}
		if _, err := summariesToState(pb); err != nil {
			return err
		}
		return pb.Bucket(bucketMeta).Put(keySchema, []byte("2"))
	})
	defer s.Close()
	err = s.view(p, func(tx *ptx) error {
		if tx.b.Bucket(layout2State) != nil {
			t.Error("bucket state is still there")
		}
		c := tx.bk(bucketOrders).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if k[0] != orderCompleted && k[0] != orderCancelled {
				t.Fatalf("order key with prefix %q left", k[0])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if after := listed(); after != before {
		t.Errorf("the orders differ after the upgrade:\nbefore %s\nafter  %s", before, after)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// oldOrderKeys returns, from a project's summaries, the keys of the four
// orders of layouts 1 and 2 (without layout 2's prefix byte): t ‖ id,
// ^t ‖ id, n ‖ ^t ‖ id and ^n ‖ ^t ‖ id.
func oldOrderKeys(pb *bolt.Bucket) [4][][]byte {
	var out [4][][]byte
	c := pb.Bucket(bucketCompletions).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			continue
		}
		sum := decodeSummary(v)
		t, descT := noTime, noTime
		if sum.hasNewest {
			t, descT = sortable(sum.newest), ^sortable(sum.newest)
		}
		n := uint64(sum.cancelled)
		out[0] = append(out[0], cat(u64(t), k))
		out[1] = append(out[1], cat(u64(descT), k))
		out[2] = append(out[2], cat(u64(n), u64(descT), k))
		out[3] = append(out[3], cat(u64(^n), u64(descT), k))
	}
	return out
}

// summariesToState moves a project's summaries out of bucket completions
// into a bucket state, without their seq, as layouts 1 and 2 kept them, and
// returns how many it moved.
func summariesToState(pb *bolt.Bucket) (int, error) {
	st, err := pb.CreateBucket(layout2State)
	if err != nil {
		return 0, err
	}
	cb := pb.Bucket(bucketCompletions)
	var moved [][]byte
	c := cb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 8 {
			continue
		}
		if err := st.Put(append([]byte(nil), k...), append([]byte(nil), v[:layout2StateLen]...)); err != nil {
			return 0, err
		}
		moved = append(moved, append([]byte(nil), k...))
	}
	for _, k := range moved {
		if err := cb.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(moved), nil
}

// Layout 2's descending orders: keys of their own in bucket orders.
const (
	layout2CompletedDesc byte = 'b' // ^t ‖ id
	layout2CancelledDesc byte = 'd' // ^n ‖ ^t ‖ id
)

// rewriteProject closes s, lets fn change project p's bucket in the raw
// database, as an older version would have left it, and opens the store
// again, which upgrades it.
func rewriteProject(t *testing.T, s *Store, p string, fn func(pb *bolt.Bucket) error) *Store {
	t.Helper()
	path := s.Path()
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketProjects).Bucket([]byte(p))) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
