package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	json "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"
)

// NewTask is one task to import. Data must be a JSON object; DataKeys are its
// top-level keys (the caller has parsed it already to validate it).
type NewTask struct {
	Data        json.RawMessage
	DataKeys    []string
	Meta        json.RawMessage
	Predictions json.RawMessage
	Completions []json.RawMessage
	TaskPath    string
	// Hash, when Hashed, is DataHash(Data), worked out by the caller so
	// that the write transaction does not have to. Only an import that
	// skips duplicates uses it (see deferHashes).
	Hash   [16]byte
	Hashed bool
}

// ImportOptions tune an import.
type ImportOptions struct {
	// FirstID is the smallest id the new tasks may get (the CLI directory
	// loaders start at 1). The next id is otherwise the largest id + 1.
	FirstID int64
	// SkipDuplicates leaves out tasks whose data equals the data of a task
	// already in the project or earlier in the same import.
	SkipDuplicates bool
}

// ImportResult tells what an import stored.
type ImportResult struct {
	// IDs are the new tasks' ids as runs of consecutive ids. An import
	// takes consecutive ids, so this is one run however big the import:
	// the ids of five million tasks take a few bytes, not 40 MB.
	IDs []IDRun
	// Stored counts the new tasks.
	Stored int
	// Skipped counts the duplicates left out.
	Skipped     int
	Completions int
	Predictions int
}

// IDRun is a run of N consecutive task ids from First.
type IDRun struct {
	First int64
	N     int
}

// addID records a new task's id.
func (r *ImportResult) addID(id int64) {
	if k := len(r.IDs); k > 0 && r.IDs[k-1].First+int64(r.IDs[k-1].N) == id {
		r.IDs[k-1].N++
	} else {
		r.IDs = append(r.IDs, IDRun{First: id, N: 1})
	}
	r.Stored++
}

// EachID calls fn with each new task id, in order.
func (r ImportResult) EachID(fn func(int64)) {
	for _, run := range r.IDs {
		for i := range run.N {
			fn(run.First + int64(i))
		}
	}
}

// TaskIDs returns the new tasks' ids, in order.
func (r ImportResult) TaskIDs() []int64 {
	ids := make([]int64, 0, r.Stored)
	r.EachID(func(id int64) { ids = append(ids, id) })
	return ids
}

// Task is a stored task with its completions.
type Task struct {
	ID int64
	// Raw is the stored task JSON: id, data and, when present, meta,
	// predictions and task_path.
	Raw json.RawMessage
	// Completions are the task's completions in id order; nil when none.
	Completions []Completion
	// CompletedAt is the newest created_at of the completions, when
	// HasCompletedAt.
	CompletedAt    int64
	HasCompletedAt bool
	// Cancelled counts the skipped completions.
	Cancelled int64
}

// Completed reports whether the task has at least one completion.
func (t Task) Completed() bool { return len(t.Completions) > 0 }

// taskDoc is the part of a stored task the store reads back.
type taskDoc struct {
	Data        map[string]json.RawMessage `json:"data"`
	Predictions json.RawMessage            `json:"predictions"`
}

// predictionScores returns the number of predictions and the mean of their
// numeric scores (ok false when none has a score).
func predictionScores(raw json.RawMessage) (n int, mean float64, ok bool) {
	if len(raw) == 0 {
		return 0, 0, false
	}
	var preds []struct {
		Score json.RawMessage `json:"score"`
	}
	if json.Unmarshal(raw, &preds) != nil {
		return 0, 0, false
	}
	sum, scored := 0.0, 0
	for _, p := range preds {
		f, err := strconv.ParseFloat(string(p.Score), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		sum += f
		scored++
	}
	if scored == 0 {
		return len(preds), 0, false
	}
	return len(preds), sum / float64(scored), true
}

func encodeTask(id int64, nt NewTask) []byte { return appendTask(nil, id, nt) }

// encodedSize is about how long encodeTask's result is.
func encodedSize(nt NewTask) int {
	return len(nt.Data) + len(nt.Meta) + len(nt.Predictions) + len(nt.TaskPath) + 64
}

// appendTask appends the stored JSON of a task to b.
func appendTask(b []byte, id int64, nt NewTask) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"data":`...)
	b = append(b, nt.Data...)
	if len(nt.Meta) > 0 {
		b = append(b, `,"meta":`...)
		b = append(b, nt.Meta...)
	}
	if len(nt.Predictions) > 0 {
		b = append(b, `,"predictions":`...)
		b = append(b, nt.Predictions...)
	}
	if nt.TaskPath != "" {
		b = append(b, `,"task_path":`...)
		// json.Marshal of a string never fails; invalid UTF-8 becomes U+FFFD.
		q, _ := json.Marshal(nt.TaskPath)
		b = append(b, q...)
	}
	return append(b, '}')
}

// nextID is the id the next imported task gets: largest id + 1, or 0.
func (t *ptx) nextID() int64 {
	k, _ := t.bk(bucketTasks).Cursor().Last()
	if k == nil {
		return 0
	}
	return keyID(k) + 1
}

// checkDataObjects refuses tasks whose data is not a JSON object; first is
// the number of the first task in the import, for the message.
func checkDataObjects(tasks []NewTask, first int) error {
	for i, nt := range tasks {
		if d := bytes.TrimSpace(nt.Data); len(d) == 0 || d[0] != '{' {
			return Invalidf("task %d: data must be a JSON object", first+i)
		}
	}
	return nil
}

// ImportTasks stores tasks, with their predictions and completions, in one
// transaction: all of them or none. Ids continue from the largest id.
func (s *Store) ImportTasks(project string, tasks []NewTask, opts ImportOptions) (ImportResult, error) {
	var res ImportResult
	if len(tasks) == 0 {
		return res, Invalidf("no tasks to import")
	}
	if err := checkDataObjects(tasks, 0); err != nil {
		return res, err
	}
	now := s.Now().Unix()
	s.importLock(project).Lock()
	defer s.importLock(project).Unlock()
	err := s.update(project, func(t *ptx) error {
		res = ImportResult{}
		var known map[[16]byte]bool
		_, err := t.importChunk(tasks, max(t.nextID(), opts.FirstID), opts, now, &res, &known)
		return err
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// ImportStream is ImportTasks for tasks that arrive in batches while they
// are still being read: each batch goes into the one transaction as it
// comes, so reading the next batch overlaps storing this one. It commits
// when batches is closed, unless ctx is done by then: then nothing is
// stored and ctx's error is returned. The database's write lock is held
// until batches is closed, so the sender must produce them without waiting
// on anything slow (parse a body that is in memory, not a network stream).
// On an error ImportStream still reads batches until it is closed.
func (s *Store) ImportStream(ctx context.Context, project string, opts ImportOptions, batches <-chan []NewTask) (ImportResult, error) {
	drain := func() {
		for range batches {
		}
	}
	defer drain()
	now := s.Now().Unix()
	s.importLock(project).Lock()
	defer s.importLock(project).Unlock()
	var res ImportResult
	err := s.update(project, func(t *ptx) error {
		res = ImportResult{}
		var known map[[16]byte]bool
		id := max(t.nextID(), opts.FirstID)
		for tasks := range batches {
			if ctx.Err() != nil {
				continue
			}
			if err := checkDataObjects(tasks, res.Stored+res.Skipped); err != nil {
				return err
			}
			var err error
			if id, err = t.importChunk(tasks, id, opts, now, &res, &known); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if res.Stored+res.Skipped == 0 {
			return Invalidf("no tasks to import")
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// DataHash returns the content hash of task data: the first 16 bytes of the
// SHA-256 of its JSON text with insignificant white space removed. Data
// exported and imported again hashes the same.
func DataHash(data json.RawMessage) ([16]byte, error) {
	var h [16]byte
	b := compactBufs.Get().(*bytes.Buffer)
	defer compactBufs.Put(b)
	b.Reset()
	if err := json.Compact(b, data); err != nil {
		return h, fmt.Errorf("data is not valid JSON: %w", err)
	}
	sum := sha256.Sum256(b.Bytes())
	copy(h[:], sum[:16])
	return h, nil
}

// compactBufs holds the buffers of DataHash.
var compactBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// knownHashes reads the content hash of every task of the project,
// hashing first the tasks imports left unhashed.
func (t *ptx) knownHashes() (map[[16]byte]bool, error) {
	if err := t.hashTasks(); err != nil {
		return nil, err
	}
	known := make(map[[16]byte]bool, t.c.Tasks)
	eachHash(t.bk(bucketHashBlocks), func(h [16]byte) { known[h] = true })
	return known, nil
}

// importChunk stores tasks with ids from id on, adding to res, and returns
// the next free id.
//
// With opts.SkipDuplicates, *known holds the hashes of the project's data
// (read on first use) and gains those of the new tasks.
func (t *ptx) importChunk(tasks []NewTask, id int64, opts ImportOptions, now int64, res *ImportResult, known *map[[16]byte]bool) (int64, error) {
	tb := t.bk(bucketTasks)
	scores := t.bk(bucketScores)
	firstScored := int64(-1)
	// Completions that come with the tasks get order keys in id order.
	t.importing = true
	defer func() { t.importing = false }()
	// Imports append at the end of the id space: fill pages fully. The
	// buckets keyed by task id or by id block grow at their end too.
	tb.FillPercent = 1
	scores.FillPercent = 1
	t.bk(bucketPendingBits).FillPercent = 1
	t.bk(bucketBlocksTasks).FillPercent = 1
	keyCounts := map[string]int64{}
	// Block counts and pending bits change for few blocks: gather them,
	// write each block once.
	blocks := map[uint64]int64{}
	pending := pendingBatch{}
	hashes := hashBatch{}
	var mem arena
	need := 0
	for _, nt := range tasks {
		need += 8 + encodedSize(nt)
	}
	mem.reserve(need)
	if !opts.SkipDuplicates && len(tasks) > 0 {
		if err := t.deferHashes(id); err != nil {
			return 0, err
		}
	}
	for _, nt := range tasks {
		if opts.SkipDuplicates {
			h := nt.Hash
			if !nt.Hashed {
				var err error
				if h, err = DataHash(nt.Data); err != nil {
					return 0, Invalidf("task %d: %v", res.Stored+res.Skipped, err)
				}
			}
			if *known == nil {
				var err error
				if *known, err = t.knownHashes(); err != nil {
					return 0, err
				}
			}
			if (*known)[h] {
				res.Skipped++
				continue
			}
			(*known)[h] = true
			hashes.add(id, h)
		}
		key := mem.key(uint64(id))
		if err := tb.Put(key, appendTask(mem.alloc(encodedSize(nt)), id, nt)); err != nil {
			return 0, fmt.Errorf("store task %d: %w", id, err)
		}
		pending.set(id)
		blocks[uint64(id)>>blockShift]++
		for _, k := range nt.DataKeys {
			keyCounts[k]++
		}
		n, score, ok := predictionScores(nt.Predictions)
		res.Predictions += n
		t.c.Predictions += int64(n)
		if ok {
			sk := u64(sortableFloat(score))
			if err := scores.Put(key, sk); err != nil {
				return 0, err
			}
			if firstScored < 0 {
				firstScored = id
			}
		}
		t.c.Tasks++
		t.dirty = true
		if len(nt.Completions) > 0 {
			// Saving a completion reads the pending bits: write them
			// first.
			if err := pending.flush(t.bk(bucketPendingBits)); err != nil {
				return 0, err
			}
		}
		for _, c := range nt.Completions {
			m, err := decodeObject(c)
			if err != nil {
				return 0, Invalidf("task %d: %v", res.Stored, err)
			}
			delete(m, "id")
			if _, err := t.saveCompletion(id, m, now); err != nil {
				return 0, err
			}
			res.Completions++
		}
		res.addID(id)
		id++
	}
	if err := pending.flush(t.bk(bucketPendingBits)); err != nil {
		return 0, err
	}
	if err := hashes.flush(t.bk(bucketHashBlocks)); err != nil {
		return 0, err
	}
	if firstScored >= 0 {
		if err := t.deferScores(firstScored); err != nil {
			return 0, err
		}
	}
	for blk, n := range blocks {
		if err := addCount(t.bk(bucketBlocksTasks), u64(blk), n); err != nil {
			return 0, err
		}
	}
	dk := t.bk(bucketDataKeys)
	for k, n := range keyCounts {
		if err := addCount(dk, []byte(k), n); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// task reads one task with its completions; ok is false when it is absent.
func (t *ptx) task(id int64) (Task, bool) {
	v := t.bk(bucketTasks).Get(idKey(id))
	if v == nil {
		return Task{}, false
	}
	tk := Task{ID: id, Raw: append(json.RawMessage(nil), v...)}
	if st := t.state(id); st != nil {
		sum := decodeSummary(st)
		tk.Completions = t.completions(id)
		tk.CompletedAt, tk.HasCompletedAt, tk.Cancelled = sum.newest, sum.hasNewest, sum.cancelled
	}
	return tk, true
}

// Task returns one task with its completions.
func (s *Store) Task(project string, id int64) (Task, error) {
	var tk Task
	err := s.view(project, func(t *ptx) error {
		var ok bool
		if tk, ok = t.task(id); !ok {
			return NotFoundf("task %d not found", id)
		}
		return nil
	})
	return tk, err
}

// DeleteTask removes a task and its completions.
func (s *Store) DeleteTask(project string, id int64) error {
	return s.update(project, func(t *ptx) error { return t.deleteTask(id) })
}

// deleteTask removes a task, its completions and its index entries.
func (t *ptx) deleteTask(id int64) error {
	{
		v := t.bk(bucketTasks).Get(idKey(id))
		if v == nil {
			return NotFoundf("task %d not found", id)
		}
		var doc taskDoc
		if err := json.Unmarshal(v, &doc); err != nil {
			return fmt.Errorf("task %d: %w", id, err)
		}
		if err := t.dropCompletions(id); err != nil {
			return err
		}
		for k := range doc.Data {
			if err := addCount(t.bk(bucketDataKeys), []byte(k), -1); err != nil {
				return err
			}
		}
		if err := dropHash(t.bk(bucketHashBlocks), id); err != nil {
			return err
		}
		n, _, _ := predictionScores(doc.Predictions)
		t.c.Predictions -= int64(n)
		if err := t.setScoreIndexed(id, false); err != nil {
			return err
		}
		if err := t.bk(bucketScores).Delete(idKey(id)); err != nil {
			return err
		}
		if err := t.setPending(id, false); err != nil {
			return err
		}
		if err := addCount(t.bk(bucketBlocksTasks), blockKey(id), -1); err != nil {
			return err
		}
		t.c.Tasks--
		t.dirty = true
		return t.bk(bucketTasks).Delete(idKey(id))
	}
}

// DeleteAllTasks removes every task and completion of the project; the
// settings and labeling config stay.
func (s *Store) DeleteAllTasks(project string) error {
	return s.update(project, func(t *ptx) error {
		for _, b := range projectBuckets {
			if bytes.Equal(b, bucketMeta) {
				continue
			}
			if err := t.b.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := t.b.CreateBucket(b); err != nil {
				return err
			}
		}
		for _, k := range [][]byte{keyScoreHorizon, keyHashHorizon} {
			if err := t.bk(bucketMeta).Delete(k); err != nil {
				return err
			}
		}
		t.c = Counters{}
		t.dirty = true
		return nil
	})
}

// SetPredictions replaces the predictions of a task (raw JSON array, or nil
// to remove them) and updates the score index.
//
// Concurrent calls share commits, so that predicting many tasks in parallel
// is not bound by one fsync per task.
func (s *Store) SetPredictions(project string, id int64, predictions json.RawMessage) error {
	return s.batch(project, func(t *ptx) error {
		v := t.bk(bucketTasks).Get(idKey(id))
		if v == nil {
			return NotFoundf("task %d not found", id)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("task %d: %w", id, err)
		}
		oldN, _, _ := predictionScores(m["predictions"])
		if len(predictions) == 0 {
			delete(m, "predictions")
		} else {
			m["predictions"] = predictions
		}
		raw, err := json.Marshal(m)
		if err != nil {
			return Invalidf("predictions: %v", err)
		}
		completed := t.state(id) != nil
		if err := t.setScoreIndexed(id, false); err != nil {
			return err
		}
		if err := t.bk(bucketScores).Delete(idKey(id)); err != nil {
			return err
		}
		n, score, ok := predictionScores(predictions)
		if ok {
			if err := t.bk(bucketScores).Put(idKey(id), u64(sortableFloat(score))); err != nil {
				return err
			}
			if !completed {
				if err := t.setScoreIndexed(id, true); err != nil {
					return err
				}
			}
		}
		t.c.Predictions += int64(n - oldN)
		t.dirty = true
		return t.bk(bucketTasks).Put(idKey(id), raw)
	})
}

// NextTask returns the next task to label by the sampling mode: sequential
// (smallest id without completions), uniform (a random one), or
// prediction-score-min/max (the least / most confident stored prediction,
// ties to the smallest id; only tasks with scored predictions count). It
// fails with ErrNotFound when there is none.
func (s *Store) NextTask(project, sampling string) (Task, error) {
	if sampling == SamplingScoreMin || sampling == SamplingScoreMax {
		if err := s.indexScores(project); err != nil {
			return Task{}, err
		}
	}
	var tk Task
	err := s.view(project, func(t *ptx) error {
		var k []byte
		switch sampling {
		case SamplingSequential, "":
			if id := t.pendingFrom(0).next(); id >= 0 {
				k = idKey(id)
			}
		case SamplingUniform:
			if t.c.Tasks-t.c.CompletedTasks <= 0 {
				break
			}
			s.rndMu.Lock()
			r := s.rnd.Int64N(t.c.Tasks - t.c.CompletedTasks)
			s.rndMu.Unlock()
			if id := t.pendingFrom(r).next(); id >= 0 {
				k = idKey(id)
			}
		case SamplingScoreMin:
			sk, _ := t.bk(bucketByScore).Cursor().First()
			if sk != nil {
				k = sk[8:]
			}
		case SamplingScoreMax:
			c := t.bk(bucketByScore).Cursor()
			last, _ := c.Last()
			if last != nil {
				first, _ := c.Seek(last[:8])
				k = first[8:]
			}
		default:
			return Invalidf("Unknown sampling method %s", sampling)
		}
		if k == nil {
			return NotFoundf("no more tasks to label")
		}
		var ok bool
		if tk, ok = t.task(keyID(k)); !ok {
			return fmt.Errorf("index names task %d that does not exist", keyID(k))
		}
		return nil
	})
	return tk, err
}

// groupIDs yields the task ids of one tie group of bucket orders (the keys
// that start with g) in id order: the group's imported keys (seq below
// liveSeq, in id order already) are read as they come, merged with the
// group's later keys, which are read whole and sorted.
type groupIDs struct {
	run  *bolt.Cursor
	k, v []byte
	g    []byte
	live []int64
	li   int
}

func newGroupIDs(orders *bolt.Bucket, g []byte) *groupIDs {
	it := &groupIDs{run: orders.Cursor(), g: g}
	it.k, it.v = it.run.Seek(g)
	lc := orders.Cursor()
	for k, v := lc.Seek(cat(g, u64(liveSeq))); k != nil && bytes.HasPrefix(k, g); k, v = lc.Next() {
		it.live = append(it.live, keyID(v))
	}
	slices.Sort(it.live)
	return it
}

// next returns the group's next id, false after the last.
func (it *groupIDs) next() (int64, bool) {
	var run int64
	inRun := it.k != nil && bytes.HasPrefix(it.k, it.g) && getU64(it.k[len(it.k)-8:]) < liveSeq
	if inRun {
		run = keyID(it.v)
	}
	if it.li < len(it.live) && (!inRun || it.live[it.li] < run) {
		it.li++
		return it.live[it.li-1], true
	}
	if !inRun {
		return 0, false
	}
	it.k, it.v = it.run.Next()
	return run, true
}

// succ returns the smallest byte string greater than every string that
// starts with p, or nil if there is none.
func succ(p []byte) []byte {
	s := append([]byte(nil), p...)
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0xff {
			s[i]++
			return s[:i+1]
		}
	}
	return nil
}

// groupsForward calls fn for each group of the keys of b that start with
// p, in key order; a group is the keys that share their first glen bytes.
// It stops and returns false when fn does.
func groupsForward(b *bolt.Bucket, p []byte, glen int, fn func(g []byte) bool) bool {
	c := b.Cursor()
	k, _ := c.Seek(p)
	for k != nil && bytes.HasPrefix(k, p) && len(k) >= glen {
		g := append([]byte(nil), k[:glen]...)
		if !fn(g) {
			return false
		}
		next := succ(g)
		if next == nil {
			break
		}
		k, _ = c.Seek(next)
	}
	return true
}

// groupsBackward is groupsForward from the last group to the first.
func groupsBackward(b *bolt.Bucket, p []byte, glen int, fn func(g []byte) bool) bool {
	c := b.Cursor()
	var k []byte
	if next := succ(p); next == nil {
		k, _ = c.Last()
	} else if k, _ = c.Seek(next); k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	for k != nil && bytes.HasPrefix(k, p) && len(k) >= glen {
		g := append([]byte(nil), k[:glen]...)
		if !fn(g) {
			return false
		}
		c.Seek(g)
		k, _ = c.Prev()
	}
	return true
}

// listOrder lists the completed tasks in one of the completion orders,
// skipping skip of them and calling add for the others until it returns
// false. It reports whether the completed tasks ran out first.
func (t *ptx) listOrder(order string, skip int64, add func([]byte) bool) bool {
	orders := t.bk(bucketOrders)
	group := func(g []byte) bool {
		it := newGroupIDs(orders, g)
		for id, ok := it.next(); ok; id, ok = it.next() {
			if skip > 0 {
				skip--
				continue
			}
			if !add(idKey(id)) {
				return false
			}
		}
		return true
	}
	a, c := []byte{orderCompleted}, []byte{orderCancelled}
	switch order {
	case OrderCompletedAt:
		return groupsForward(orders, a, 9, group)
	case OrderCompletedAtDesc:
		// Newest first; the tasks without a time last.
		noTimeGroup := cat(a, u64(noTime))
		if !groupsBackward(orders, a, 9, func(g []byte) bool {
			return bytes.Equal(g, noTimeGroup) || group(g)
		}) {
			return false
		}
		return groupsForward(orders, noTimeGroup, 9, group)
	case OrderHasCancelled:
		return groupsForward(orders, c, 17, group)
	default: // OrderHasCancelledDesc: counts descending, newest first within
		return groupsBackward(orders, c, 9, func(byCount []byte) bool {
			return groupsForward(orders, byCount, 17, group)
		})
	}
}

// nth positions c on the k-th (0-based) key of its bucket, using the block
// counts in blocks, and returns that key (nil when k is out of range).
func nth(blocks *bolt.Bucket, c *bolt.Cursor, k int64) []byte {
	if k < 0 {
		return nil
	}
	var acc int64
	bc := blocks.Cursor()
	for bk, bv := bc.First(); bk != nil; bk, bv = bc.Next() {
		n := int64(getU64(bv))
		if acc+n <= k {
			acc += n
			continue
		}
		key, _ := c.Seek(u64(getU64(bk) << blockShift))
		for ; key != nil && acc < k; acc++ {
			key, _ = c.Next()
		}
		return key
	}
	return nil
}

// Task orders of ListTasks.
const (
	OrderID               = "id"
	OrderIDDesc           = "-id"
	OrderCompletedAt      = "completed_at"
	OrderCompletedAtDesc  = "-completed_at"
	OrderHasCancelled     = "has_cancelled_completions"
	OrderHasCancelledDesc = "-has_cancelled_completions"
)

// ValidOrder reports whether o is an order ListTasks knows.
func ValidOrder(o string) bool {
	switch o {
	case OrderID, OrderIDDesc, OrderCompletedAt, OrderCompletedAtDesc, OrderHasCancelled, OrderHasCancelledDesc:
		return true
	}
	return false
}

// ListTasks returns up to limit tasks starting at offset in the given order.
// Tasks without completions come after completed ones in the completion
// orders, by id. Only the returned tasks are read.
func (s *Store) ListTasks(project, order string, offset, limit int64) ([]Task, error) {
	if !ValidOrder(order) {
		return nil, Invalidf("Incorrect order")
	}
	if offset < 0 || limit < 0 {
		return nil, Invalidf("offset and limit must not be negative")
	}
	var out []Task
	err := s.view(project, func(t *ptx) error {
		total := t.c.Tasks
		if offset >= total || limit == 0 {
			return nil
		}
		limit = min(limit, total-offset)
		out = make([]Task, 0, limit)
		add := func(k []byte) bool {
			tk, ok := t.task(keyID(k))
			if ok {
				out = append(out, tk)
			}
			return int64(len(out)) < limit
		}
		switch order {
		case OrderID:
			c := t.bk(bucketTasks).Cursor()
			for k := nth(t.bk(bucketBlocksTasks), c, offset); k != nil && add(k); k, _ = c.Next() {
			}
		case OrderIDDesc:
			c := t.bk(bucketTasks).Cursor()
			for k := nth(t.bk(bucketBlocksTasks), c, total-1-offset); k != nil && add(k); k, _ = c.Prev() {
			}
		default:
			done := t.c.CompletedTasks
			if offset < done {
				if !t.listOrder(order, offset, add) {
					return nil
				}
				offset = done
			}
			it := t.pendingFrom(offset - done)
			for id := it.next(); id >= 0 && add(idKey(id)); id = it.next() {
			}
		}
		return nil
	})
	return out, err
}

// EachTask calls fn for every task in id order (only the completed ones when
// onlyCompleted), reading chunk tasks per read transaction so that neither
// memory nor a long transaction grows with the project.
func (s *Store) EachTask(project string, onlyCompleted bool, fn func(Task) error) error {
	const chunk = 500
	next := int64(0) // the smallest id not yet read
	for {
		var batch []Task
		exhausted := false
		err := s.view(project, func(t *ptx) error {
			if onlyCompleted {
				c := t.bk(bucketCompletions).Cursor()
				id := nextCompleted(c, next)
				for ; id >= 0 && len(batch) < chunk; id = nextCompleted(c, id+1) {
					if tk, ok := t.task(id); ok {
						batch = append(batch, tk)
					}
					next = id + 1
				}
				exhausted = id < 0
				return nil
			}
			c := t.bk(bucketTasks).Cursor()
			k, _ := c.Seek(idKey(next))
			for ; k != nil && len(batch) < chunk; k, _ = c.Next() {
				id := keyID(k)
				if tk, ok := t.task(id); ok {
					batch = append(batch, tk)
				}
				next = id + 1
			}
			exhausted = k == nil
			return nil
		})
		if err != nil {
			return err
		}
		for _, tk := range batch {
			if err := fn(tk); err != nil {
				return err
			}
		}
		if exhausted {
			return nil
		}
	}
}
