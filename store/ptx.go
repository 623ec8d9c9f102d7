package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	json "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"
)

// ptx is one transaction on one project: the project bucket, its counters
// loaded at the start and written back at the end when changed.
type ptx struct {
	s     *Store
	tx    *bolt.Tx
	b     *bolt.Bucket
	c     Counters
	dirty bool
	// importing makes reindex give new order keys the task id as their
	// sequence (see orderKeys).
	importing bool
}

func (s *Store) begin(tx *bolt.Tx, name string) (*ptx, error) {
	pb, err := projectBucket(tx, name)
	if err != nil {
		return nil, err
	}
	t := &ptx{s: s, tx: tx, b: pb}
	if err := json.Unmarshal(pb.Get(keyCounters), &t.c); err != nil {
		return nil, fmt.Errorf("project %q: read counters: %w", name, err)
	}
	return t, nil
}

func (t *ptx) finish() error {
	if !t.dirty {
		return nil
	}
	cj, err := json.Marshal(t.c)
	if err != nil {
		return err
	}
	return t.b.Put(keyCounters, cj)
}

// update runs fn in a read-write transaction on the named project.
func (s *Store) update(name string, fn func(*ptx) error) error {
	return s.db.Update(func(tx *bolt.Tx) error { return s.runUpdate(tx, name, fn) })
}

// batch is update through the group committer: concurrent small writes
// share one commit (and one fsync). fn may run more than once and must not
// keep state outside the transaction except its results.
func (s *Store) batch(name string, fn func(*ptx) error) error {
	return s.writes.do(func(tx *bolt.Tx) error { return s.runUpdate(tx, name, fn) })
}

func (s *Store) runUpdate(tx *bolt.Tx, name string, fn func(*ptx) error) error {
	t, err := s.begin(tx, name)
	if err != nil {
		return err
	}
	if err := fn(t); err != nil {
		return err
	}
	return t.finish()
}

// view runs fn in a read-only transaction on the named project.
func (s *Store) view(name string, fn func(*ptx) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		t, err := s.begin(tx, name)
		if err != nil {
			return err
		}
		return fn(t)
	})
}

func (t *ptx) bk(name []byte) *bolt.Bucket { return t.b.Bucket(name) }

// addCount adds delta to a uint64 counter stored under key in bucket b and
// deletes the key when it drops to zero.
func addCount(b *bolt.Bucket, key []byte, delta int64) error {
	v := int64(getU64(b.Get(key))) + delta
	if v <= 0 {
		return b.Delete(key)
	}
	return b.Put(key, u64(uint64(v)))
}

func blockKey(id int64) []byte { return u64(uint64(id) >> blockShift) }

// summary describes a task's completions; a task is completed iff n > 0.
// seq is the sequence of its order keys (see orderKeys); summarize leaves
// it 0, reindex sets it.
type summary struct {
	n         int64
	cancelled int64
	newest    int64
	hasNewest bool
	maxID     int64
	seq       uint64
}

// stateLen is the length of an encoded summary; layouts 1 and 2 had no seq
// (layout2StateLen).
const (
	stateLen        = 41
	layout2StateLen = 33
)

func (s summary) encode() []byte {
	b := make([]byte, stateLen)
	binary.BigEndian.PutUint64(b[0:], uint64(s.n))
	binary.BigEndian.PutUint64(b[8:], uint64(s.cancelled))
	binary.BigEndian.PutUint64(b[16:], uint64(s.newest))
	binary.BigEndian.PutUint64(b[24:], uint64(s.maxID))
	if s.hasNewest {
		b[32] = 1
	}
	binary.BigEndian.PutUint64(b[33:], s.seq)
	return b
}

func decodeSummary(b []byte) summary {
	if len(b) != stateLen && len(b) != layout2StateLen {
		return summary{}
	}
	s := summary{
		n:         int64(binary.BigEndian.Uint64(b[0:])),
		cancelled: int64(binary.BigEndian.Uint64(b[8:])),
		newest:    int64(binary.BigEndian.Uint64(b[16:])),
		maxID:     int64(binary.BigEndian.Uint64(b[24:])),
		hasNewest: b[32] == 1,
	}
	if len(b) == stateLen {
		s.seq = binary.BigEndian.Uint64(b[33:])
	}
	return s
}

// noTime is the time in order keys of a task whose completions carry no
// time: such tasks sort last in both directions.
const noTime = uint64(1<<64 - 1)

// Order keys. A completed task has two keys in bucket orders, one per
// order: by completion time ('a' ‖ t ‖ seq) and by cancelled count, newest
// first ('c' ‖ n ‖ ^t ‖ seq); the value is the task id. Within a tie group
// (the keys that share t, or n and ^t) the lists show tasks by id; the keys
// are ordered by seq instead, so that the tasks completed within one second
// in random order append to the end of their group, one leaf for all, not
// one leaf each. Imports (and upgrades) give a key the task's id as seq,
// below liveSeq, so that a group starts with its imported tasks in id order;
// completions saved later get seq from liveSeq on, and a reader sorts that
// tail of the group (see groupIDs). The descending orders are read from the
// same keys, tie group by tie group from the end.
const liveSeq = uint64(1) << 62

// keyOrderSeq holds, in the project bucket, the last seq given to a saved
// completion's order keys.
var keyOrderSeq = []byte("order_seq")

func orderKeys(s summary) [2][]byte {
	t, descT := noTime, noTime
	if s.hasNewest {
		t, descT = sortable(s.newest), ^sortable(s.newest)
	}
	return [2][]byte{
		cat([]byte{orderCompleted}, u64(t), u64(s.seq)),
		cat([]byte{orderCancelled}, u64(uint64(s.cancelled)), u64(descT), u64(s.seq)),
	}
}

// sameOrder reports whether two summaries sort alike in every order.
func sameOrder(a, b summary) bool {
	return a.hasNewest == b.hasNewest && a.newest == b.newest && a.cancelled == b.cancelled
}

// nextOrderSeq returns the seq for a task's new order keys.
func (t *ptx) nextOrderSeq(id int64) (uint64, error) {
	if t.importing {
		return uint64(id), nil
	}
	seq := max(getU64(t.b.Get(keyOrderSeq))+1, liveSeq)
	return seq, t.b.Put(keyOrderSeq, u64(seq))
}

// state returns the summary entry of a task, nil when it has no
// completion. It is the 8-byte key of the task in bucket completions, just
// before the task's completions, so that a write of a completion and of its
// task's summary touch one leaf, not two.
func (t *ptx) state(id int64) []byte { return t.bk(bucketCompletions).Get(idKey(id)) }

// eachCompletion calls fn for the completions of task id in id order, with
// their 16-byte keys, skipping the task's summary entry.
func (t *ptx) eachCompletion(id int64, fn func(k, v []byte) error) error {
	prefix := idKey(id)
	c := t.bk(bucketCompletions).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) == len(prefix) {
			continue // the summary
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// nextCompleted moves c to the summary entry of the first completed task
// with an id at least id and returns that id, or -1 when there is none.
func nextCompleted(c *bolt.Cursor, id int64) int64 {
	for k, _ := c.Seek(idKey(id)); k != nil; k, _ = c.Seek(idKey(id)) {
		id = keyID(k[:8])
		if len(k) == 8 {
			return id
		}
		id++ // completions without a summary: not expected, stepped over
	}
	return -1
}

// summarize reads a task's completions and describes them.
func (t *ptx) summarize(id int64) summary {
	var s summary
	_ = t.eachCompletion(id, func(k, v []byte) error {
		h := parseHead(v)
		s.n++
		if h.cancelled() {
			s.cancelled++
		}
		if h.CreatedAt != nil {
			ts := int64(*h.CreatedAt)
			if !s.hasNewest || ts > s.newest {
				s.newest, s.hasNewest = ts, true
			}
		}
		s.maxID = keyID(k[8:])
		return nil
	})
	return s
}

// reindex moves a task's completion indexes from old to new.
func (t *ptx) reindex(id int64, old, cur summary) error {
	orders := t.bk(bucketOrders)
	// A new completion's keys go where the 'a' keys end and, for a task
	// without cancelled completions, where the 'c' keys begin (the
	// newest time, the highest seq): full pages there split less often.
	orders.FillPercent = 1
	if old.n > 0 {
		old.seq = decodeSummary(t.state(id)).seq
	}
	moved := old.n == 0 || cur.n == 0 || !sameOrder(old, cur)
	if old.n > 0 && moved {
		for _, k := range orderKeys(old) {
			if err := orders.Delete(k); err != nil {
				return err
			}
		}
	}
	t.c.CancelledCompletions += cur.cancelled - old.cancelled
	t.c.Completions += cur.n - old.n
	t.dirty = true
	if cur.n > 0 {
		cur.seq = old.seq
		if moved {
			var err error
			if cur.seq, err = t.nextOrderSeq(id); err != nil {
				return err
			}
			v := idKey(id)
			for _, k := range orderKeys(cur) {
				if err := orders.Put(k, v); err != nil {
					return err
				}
			}
		}
		if err := t.bk(bucketCompletions).Put(idKey(id), cur.encode()); err != nil {
			return err
		}
	} else if err := t.bk(bucketCompletions).Delete(idKey(id)); err != nil {
		return err
	}
	switch {
	case old.n == 0 && cur.n > 0:
		t.c.CompletedTasks++
		if err := t.setPending(id, false); err != nil {
			return err
		}
		return t.setScoreIndexed(id, false)
	case old.n > 0 && cur.n == 0:
		t.c.CompletedTasks--
		if err := t.setPending(id, true); err != nil {
			return err
		}
		return t.setScoreIndexed(id, true)
	}
	return nil
}

// setScoreIndexed adds or removes a task from by_score if it has a score.
func (t *ptx) setScoreIndexed(id int64, on bool) error {
	v := t.bk(bucketScores).Get(idKey(id))
	if v == nil {
		return nil
	}
	k := cat(v, idKey(id))
	if on {
		return t.bk(bucketByScore).Put(k, nil)
	}
	return t.bk(bucketByScore).Delete(k)
}

// usage adds delta to the label-usage counts of one completion's results.
func (t *ptx) usage(completion []byte, delta int64) error {
	return t.addUsage(usageKeys(parseHead(completion).Result), delta)
}

// addUsage adds delta to the label-usage counts of keys.
func (t *ptx) addUsage(keys [][]byte, delta int64) error {
	lb := t.bk(bucketLabelUsage)
	for _, k := range keys {
		if err := addCount(lb, k, delta); err != nil {
			return err
		}
	}
	return nil
}

// usageKeys lists the label-usage keys a completion result counts in, one
// per result item and one per label it carries.
func usageKeys(result json.RawMessage) [][]byte {
	if len(result) == 0 {
		return nil
	}
	var items []resultItem
	if json.Unmarshal(result, &items) != nil {
		return nil
	}
	var keys [][]byte
	for _, it := range items {
		if it.FromName == "" || it.ToName == "" || strings.ContainsRune(it.FromName+it.ToName+it.Type, 0) {
			continue
		}
		switch it.Type {
		case "relation", "rating", "pairwise":
			continue
		}
		keys = append(keys, []byte("t\x00"+it.FromName+"\x00"+it.ToName+"\x00"+it.Type))
		for _, l := range it.labels() {
			if strings.ContainsRune(l, 0) {
				continue
			}
			keys = append(keys, []byte("l\x00"+it.FromName+"\x00"+l))
		}
	}
	return keys
}

// facts gathers the config-change facts from counters and indexes.
func (t *ptx) facts() Facts {
	f := Facts{Tasks: t.c.Tasks, Completions: t.c.Completions, LabelsByFromName: map[string][]string{}}
	if t.c.Tasks > 0 {
		t.bk(bucketDataKeys).ForEach(func(k, v []byte) error {
			if int64(getU64(v)) == t.c.Tasks {
				f.CommonDataKeys = append(f.CommonDataKeys, string(k))
			}
			return nil
		})
	}
	t.bk(bucketLabelUsage).ForEach(func(k, v []byte) error {
		parts := strings.Split(string(k), "\x00")
		switch {
		case parts[0] == "t" && len(parts) == 4:
			f.Triples = append(f.Triples, Triple{FromName: parts[1], ToName: parts[2], Type: parts[3], Count: int64(getU64(v))})
		case parts[0] == "l" && len(parts) == 3:
			f.LabelsByFromName[parts[1]] = append(f.LabelsByFromName[parts[1]], parts[2])
		}
		return nil
	})
	return f
}

// resultItem is the part of a result item the store looks at.
type resultItem struct {
	FromName string                     `json:"from_name"`
	ToName   string                     `json:"to_name"`
	Type     string                     `json:"type"`
	Value    map[string]json.RawMessage `json:"value"`
}

func (it resultItem) labels() []string {
	raw, ok := it.Value[it.Type]
	if !ok {
		return nil
	}
	var ls []string
	if json.Unmarshal(raw, &ls) != nil {
		return nil
	}
	return ls
}

// resultUses reports whether a completion has a result from fromName (with
// label, when label is not empty).
func resultUses(completion []byte, fromName, label string) bool {
	var items []resultItem
	if json.Unmarshal(parseHead(completion).Result, &items) != nil {
		return false
	}
	for _, it := range items {
		if it.FromName != fromName {
			continue
		}
		if label == "" {
			return true
		}
		for _, l := range it.labels() {
			if l == label {
				return true
			}
		}
	}
	return false
}

// An import does not put its scored tasks into by_score: a hundred scored
// tasks in a batch would rewrite a hundred leaves of that index scattered
// by score, more than the batch's own pages. It records instead, in meta,
// the smallest id whose score is left out (the horizon); the first
// prediction-score sampling after the import adds them all in one
// transaction (indexScores), reading bucket scores in id order from the
// horizon. Every other change keeps by_score as before: a completion or a
// deletion of a task beyond the horizon deletes an entry that is not there,
// and a task that becomes pending again gets its entry at once; adding an
// entry twice is harmless, and indexScores skips tasks completed since.

// horizon returns the task id kept in meta under key (keyScoreHorizon,
// keyHashHorizon), from which on an index was left for later; ok is false
// when the index is complete.
func (t *ptx) horizon(key []byte) (id int64, ok bool) {
	h := t.bk(bucketMeta).Get(key)
	return int64(getU64(h)), h != nil
}

// lowerHorizon moves the horizon kept under key down to id.
func (t *ptx) lowerHorizon(key []byte, id int64) error {
	if h, ok := t.horizon(key); ok && h <= id {
		return nil
	}
	return t.bk(bucketMeta).Put(key, u64(uint64(id)))
}

// deferScores moves the score horizon down to id.
func (t *ptx) deferScores(id int64) error { return t.lowerHorizon(keyScoreHorizon, id) }

// indexScores adds to by_score every pending scored task from the horizon
// on, and removes the horizon.
func (t *ptx) indexScores() error {
	h, ok := t.horizon(keyScoreHorizon)
	if !ok {
		return nil
	}
	bs := t.bk(bucketByScore)
	c := t.bk(bucketScores).Cursor()
	for k, v := c.Seek(idKey(h)); k != nil; k, v = c.Next() {
		if t.state(keyID(k)) != nil {
			continue // completed: not a candidate
		}
		if err := bs.Put(cat(v, k), nil); err != nil {
			return err
		}
	}
	return t.bk(bucketMeta).Delete(keyScoreHorizon)
}

// indexScores completes by_score of a project if imports left scores out.
func (s *Store) indexScores(project string) error {
	var behind bool
	if err := s.view(project, func(t *ptx) error {
		_, behind = t.horizon(keyScoreHorizon)
		return nil
	}); err != nil || !behind {
		return err
	}
	return s.update(project, func(t *ptx) error { return t.indexScores() })
}

// rebuildOrders writes bucket orders anew from the summaries, each with its
// task id as seq, as an import gives them.
func (t *ptx) rebuildOrders() error {
	if err := t.b.DeleteBucket(bucketOrders); err != nil {
		return err
	}
	orders, err := t.b.CreateBucket(bucketOrders)
	if err != nil {
		return err
	}
	orders.FillPercent = 1
	cb := t.bk(bucketCompletions)
	type entry struct {
		id  int64
		sum summary
	}
	var all []entry
	c := cb.Cursor()
	for id := nextCompleted(c, 0); id >= 0; id = nextCompleted(c, id+1) {
		sum := decodeSummary(cb.Get(idKey(id)))
		sum.seq = uint64(id)
		all = append(all, entry{id, sum})
	}
	for _, e := range all {
		if err := cb.Put(idKey(e.id), e.sum.encode()); err != nil {
			return err
		}
		for _, k := range orderKeys(e.sum) {
			if err := orders.Put(k, idKey(e.id)); err != nil {
				return err
			}
		}
	}
	return nil
}
