package store

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// hashState reads the hash horizon (-1 when absent) and every record of
// hash_blocks, failing on a task recorded twice.
func hashState(t *testing.T, s *Store, p string) (int64, map[int64][16]byte) {
	t.Helper()
	horizon := int64(-1)
	recs := map[int64][16]byte{}
	err := s.view(p, func(tx *ptx) error {
		if h := tx.bk(bucketMeta).Get(keyHashHorizon); h != nil {
			horizon = int64(getU64(h))
		}
		var dup error
		eachHashID(tx.bk(bucketHashBlocks), func(id int64, h [16]byte) {
			if _, ok := recs[id]; ok && dup == nil {
				dup = fmt.Errorf("task %d has two hash records", id)
			}
			recs[id] = h
		})
		return dup
	})
	if err != nil {
		t.Fatal(err)
	}
	return horizon, recs
}

// TestHashHorizon follows one project through imports with and without
// skip_duplicates, deletions and a delete-all, against a model: which
// tasks each import skips, and after every step the invariant of
// hash_blocks (the hash of exactly every task below the horizon, or of
// every task when there is none).
func TestHashHorizon(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	rnd := rand.New(rand.NewPCG(7, 11))
	model := map[int64]string{} // id → data text
	next := func() int64 {
		if len(model) == 0 {
			return 0
		}
		return slices.Max(slices.Collect(maps.Keys(model))) + 1
	}
	// data builds the data of text, sometimes with other spacing: the
	// same data for duplicate detection.
	data := func(text string) NewTask {
		if rnd.IntN(3) == 0 {
			return NewTask{Data: []byte(fmt.Sprintf(`{ "text" : %q }`, text)), DataKeys: []string{"text"}}
		}
		return textTask(text)
	}
	check := func(step int) {
		t.Helper()
		horizon, recs := hashState(t, s, p)
		for id, h := range recs {
			text, ok := model[id]
			if !ok {
				t.Fatalf("step %d: a hash record for task %d, which does not exist", step, id)
			}
			if horizon >= 0 && id >= horizon {
				t.Fatalf("step %d: a hash record for task %d, beyond the horizon %d", step, id, horizon)
			}
			if want, _ := DataHash(textTask(text).Data); h != want {
				t.Fatalf("step %d: task %d has the hash of other data", step, id)
			}
		}
		for id := range model {
			if _, ok := recs[id]; !ok && (horizon < 0 || id < horizon) {
				t.Fatalf("step %d: task %d has no hash record, horizon %d", step, id, horizon)
			}
		}
	}
	dedups := 0
	for step := range 300 {
		switch r := rnd.IntN(20); {
		case r < 12: // an import
			skip := rnd.IntN(2) == 0
			var tasks []NewTask
			var texts []string
			for range 1 + rnd.IntN(30) {
				text := fmt.Sprintf("text %d", rnd.IntN(60))
				tasks = append(tasks, data(text))
				texts = append(texts, text)
			}
			res, err := s.ImportTasks(p, tasks, ImportOptions{SkipDuplicates: skip})
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, text := range model {
				have[text] = true
			}
			id, skipped := next(), 0
			var want []int64
			for _, text := range texts {
				if skip && have[text] {
					skipped++
					continue
				}
				have[text] = true
				model[id] = text
				want = append(want, id)
				id++
			}
			if skip {
				dedups++
			}
			if got := res.TaskIDs(); !slices.Equal(got, want) || res.Skipped != skipped {
				t.Fatalf("step %d: import (skip %v) stored %v and skipped %d, want %v and %d", step, skip, got, res.Skipped, want, skipped)
			}
		case r < 18 && len(model) > 0: // delete a task
			ids := slices.Sorted(maps.Keys(model))
			id := ids[rnd.IntN(len(ids))]
			if rnd.IntN(2) == 0 {
				id = ids[len(ids)-1] // its id is given again by the next import
			}
			if err := s.DeleteTask(p, id); err != nil {
				t.Fatal(err)
			}
			delete(model, id)
		case r == 19: // delete all
			if err := s.DeleteAllTasks(p); err != nil {
				t.Fatal(err)
			}
			clear(model)
		}
		check(step)
	}
	if dedups < 50 {
		t.Fatalf("only %d imports skipped duplicates", dedups)
	}
}

// TestImportLeavesHashesOut checks that an import without skip_duplicates
// writes no hash and sets the horizon at its first task, and that the next
// import that skips duplicates hashes them all and removes it.
func TestImportLeavesHashesOut(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"), textTask("b"))
	if horizon, recs := hashState(t, s, p); horizon != 0 || len(recs) != 0 {
		t.Fatalf("after a plain import: horizon %d, %d records; want 0 and none", horizon, len(recs))
	}
	mustImport(t, s, p, textTask("c"))
	if horizon, _ := hashState(t, s, p); horizon != 0 {
		t.Fatalf("a second plain import moved the horizon to %d", horizon)
	}
	res := mustImportSkipping(t, s, p, textTask("c"), textTask("d"))
	if res.Skipped != 1 || !slices.Equal(res.TaskIDs(), []int64{3}) {
		t.Fatalf("skipped %d, stored %v; want 1 and [3]", res.Skipped, res.TaskIDs())
	}
	if horizon, recs := hashState(t, s, p); horizon != -1 || len(recs) != 4 {
		t.Fatalf("after the import that skips duplicates: horizon %d, %d records; want none and 4", horizon, len(recs))
	}
}

// TestHashTasksSkipsUnreadableData checks that a task whose stored data is
// not JSON (the store leaves checking it to its callers) does not stop an
// import that skips duplicates: it has no hash, as it equals no data.
func TestHashTasksSkipsUnreadableData(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("a"), NewTask{Data: []byte(`{"text": }`), DataKeys: []string{"text"}}, textTask("b"))
	res := mustImportSkipping(t, s, p, textTask("b"), textTask("c"))
	if res.Skipped != 1 || !slices.Equal(res.TaskIDs(), []int64{3}) {
		t.Fatalf("skipped %d, stored %v; want 1 and [3]", res.Skipped, res.TaskIDs())
	}
	if horizon, recs := hashState(t, s, p); horizon != -1 || len(recs) != 3 {
		t.Fatalf("horizon %d, %d records; want none and 3 (all but the unreadable task)", horizon, len(recs))
	}
}
