package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	json "github.com/goccy/go-json"
)

// The prediction-score samplings stay exact while imports leave their
// scores out of by_score: random imports (some lowering the next id after
// deletions), completions, skips, deleted completions and tasks and
// replaced predictions, checked after every step against the tasks
// themselves.
func TestScoreSamplingWithDeferredIndex(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	rnd := rand.New(rand.NewPCG(7, 11))
	type model struct {
		score     int // -1: no scored prediction
		completed bool
	}
	tasks := map[int64]*model{}
	ids := func() []int64 {
		var out []int64
		for id := range tasks {
			out = append(out, id)
		}
		return out
	}
	// pick returns a random task, half the time one of the newest, which
	// are the ones whose scores may still be left out of the index.
	pick := func() (int64, bool) {
		all := ids()
		if len(all) == 0 {
			return 0, false
		}
		slices.Sort(all)
		if rnd.IntN(2) == 0 {
			all = all[max(0, len(all)-30):]
		}
		return all[rnd.IntN(len(all))], true
	}
	pred := func(score int) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`[{"result":[],"score":0.%d}]`, score))
	}
	want := func(max bool) int64 {
		best, bestID := -1, int64(-1)
		for id, m := range tasks {
			if m.completed || m.score < 0 {
				continue
			}
			better := bestID < 0 || (!max && m.score < best) || (max && m.score > best) ||
				(m.score == best && id < bestID)
			if better {
				best, bestID = m.score, id
			}
		}
		return bestID
	}
	check := func(step int, what string) {
		t.Helper()
		defer func() {
			// After the samplings the index holds exactly the pending scored
			// tasks.
			var got, exp []int64
			if err := s.view(p, func(tx *ptx) error {
				if tx.bk(bucketMeta).Get(keyScoreHorizon) != nil {
					t.Errorf("step %d (%s): a horizon is left after sampling", step, what)
				}
				return tx.bk(bucketByScore).ForEach(func(k, _ []byte) error {
					got = append(got, keyID(k[8:]))
					return nil
				})
			}); err != nil {
				t.Fatal(err)
			}
			all := ids()
			slices.Sort(all)
			for sc := 0; sc < 10; sc++ {
				for _, id := range all {
					if m := tasks[id]; !m.completed && m.score == sc {
						exp = append(exp, id)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Fatalf("step %d (%s): by_score holds %v, want %v", step, what, got, exp)
			}
		}()
		for _, mode := range []string{SamplingScoreMin, SamplingScoreMax} {
			w := want(mode == SamplingScoreMax)
			tk, err := s.NextTask(p, mode)
			switch {
			case w < 0 && !errors.Is(err, ErrNotFound):
				t.Fatalf("step %d (%s): %s gave task %d (%v), want none", step, what, mode, tk.ID, err)
			case w >= 0 && (err != nil || tk.ID != w):
				t.Fatalf("step %d (%s): %s gave task %d (%v), want %d", step, what, mode, tk.ID, err, w)
			}
		}
	}
	for step := 0; step < 400; step++ {
		var what string
		switch op := rnd.IntN(10); {
		case op < 3:
			n := 1 + rnd.IntN(20)
			var nts []NewTask
			var scores []int
			for i := 0; i < n; i++ {
				nt := textTask(fmt.Sprintf("step %d task %d", step, i))
				sc := -1
				if rnd.IntN(2) == 0 {
					sc = rnd.IntN(10) // few values: many ties
					nt.Predictions = pred(sc)
				}
				nts = append(nts, nt)
				scores = append(scores, sc)
			}
			res, err := s.ImportTasks(p, nts, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range res.TaskIDs() {
				tasks[id] = &model{score: scores[i]}
			}
			what = fmt.Sprintf("import of %d", n)
		case op < 5:
			id, ok := pick()
			if !ok {
				continue
			}
			if _, err := s.SaveCompletion(p, id, []byte(`{"result":[]}`), rnd.IntN(3) == 0); err != nil {
				t.Fatal(err)
			}
			tasks[id].completed = true
			what = fmt.Sprintf("completion of %d", id)
		case op < 6:
			id, ok := pick()
			if !ok {
				continue
			}
			if err := s.DeleteTaskCompletions(p, id); err != nil {
				t.Fatal(err)
			}
			tasks[id].completed = false
			what = fmt.Sprintf("completions of %d deleted", id)
		case op < 8:
			// Delete the newest tasks now and then, so that the next
			// import reuses their ids below the horizon.
			all := ids()
			if len(all) == 0 {
				continue
			}
			slices.Sort(all)
			doomed := []int64{all[rnd.IntN(len(all))]}
			if rnd.IntN(2) == 0 {
				doomed = all[max(0, len(all)-1-rnd.IntN(12)):]
			}
			for _, id := range doomed {
				if err := s.DeleteTask(p, id); err != nil {
					t.Fatal(err)
				}
				delete(tasks, id)
			}
			id := doomed[0]
			what = fmt.Sprintf("%d tasks deleted from %d on", len(doomed), id)
		default:
			id, ok := pick()
			if !ok {
				continue
			}
			sc := -1
			var ps json.RawMessage
			if rnd.IntN(4) > 0 {
				sc = rnd.IntN(10)
				ps = pred(sc)
			}
			if err := s.SetPredictions(p, id, ps); err != nil {
				t.Fatal(err)
			}
			tasks[id].score = sc
			what = fmt.Sprintf("predictions of %d set to score %d", id, sc)
		}
		// Check now and then, so that several imports pile up behind the
		// horizon before an index run.
		if rnd.IntN(3) == 0 {
			check(step, what)
		}
	}
	check(-1, "the end")
}
