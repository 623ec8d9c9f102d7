package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

// modelTask is the reference model of one task in TestAgainstModel.
type modelTask struct {
	comps map[int64]modelComp
}

type modelComp struct {
	created   int64
	cancelled bool
}

func (m modelTask) summary() (newest int64, cancelled int64) {
	for _, c := range m.comps {
		newest = max(newest, c.created)
		if c.cancelled {
			cancelled++
		}
	}
	return
}

// TestAgainstModel applies random operations to the store and to a plain
// in-memory model, and checks after each one that counters, next-task and
// every list order agree with a recount from the model.
func TestAgainstModel(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	rng := rand.New(rand.NewPCG(1, 2))
	clock := int64(1_600_000_000)
	s.Now = func() time.Time { return time.Unix(clock, 0) }
	model := map[int64]*modelTask{}
	ids := func() []int64 {
		var out []int64
		for id := range model {
			out = append(out, id)
		}
		sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
		return out
	}
	pick := func() (int64, bool) {
		all := ids()
		if len(all) == 0 {
			return 0, false
		}
		return all[rng.IntN(len(all))], true
	}
	for step := 0; step < 1500; step++ {
		clock += int64(rng.IntN(3)) // equal times happen often
		op := rng.IntN(100)
		switch {
		case op < 12 || len(model) == 0:
			// Some tasks come with completions: their order keys take the
			// import's path, and share tie groups with those saved later.
			n := 1 + rng.IntN(40)
			var nts []NewTask
			var cancels [][]bool
			for i := 0; i < n; i++ {
				nt := textTask(fmt.Sprint(step, i))
				var cs []bool
				if rng.IntN(2) == 0 {
					for range 1 + rng.IntN(2) {
						c := rng.IntN(4) == 0
						nt.Completions = append(nt.Completions, json.RawMessage(fmt.Sprintf(`{"result":[],"was_cancelled":%v}`, c)))
						cs = append(cs, c)
					}
				}
				nts = append(nts, nt)
				cancels = append(cancels, cs)
			}
			res, err := s.ImportTasks(p, nts, ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range res.TaskIDs() {
				m := &modelTask{comps: map[int64]modelComp{}}
				for j, c := range cancels[i] {
					m.comps[id*1000+int64(j)+1] = modelComp{created: clock, cancelled: c}
				}
				model[id] = m
			}
		case op < 55:
			id, _ := pick()
			cancel := rng.IntN(4) == 0
			cid, err := s.SaveCompletion(p, id, []byte(`{"result":[]}`), cancel)
			if err != nil {
				t.Fatal(err)
			}
			if _, dup := model[id].comps[cid]; dup {
				t.Fatalf("step %d: completion id %d reused", step, cid)
			}
			model[id].comps[cid] = modelComp{created: clock, cancelled: cancel}
		case op < 65:
			id, _ := pick()
			for cid, c := range model[id].comps {
				if err := s.UpdateCompletion(p, id, cid, []byte(`{"was_cancelled":false,"lead_time":2}`)); err != nil {
					t.Fatal(err)
				}
				c.cancelled = false
				model[id].comps[cid] = c
				break
			}
		case op < 80:
			id, _ := pick()
			for cid := range model[id].comps {
				if err := s.DeleteCompletion(p, id, cid); err != nil {
					t.Fatal(err)
				}
				delete(model[id].comps, cid)
				break
			}
		case op < 90:
			id, _ := pick()
			if err := s.DeleteTask(p, id); err != nil {
				t.Fatal(err)
			}
			delete(model, id)
		case op < 95:
			id, _ := pick()
			if err := s.DeleteTaskCompletions(p, id); err != nil {
				t.Fatal(err)
			}
			model[id].comps = map[int64]modelComp{}
		case op < 98:
			if err := s.DeleteAllCompletions(p); err != nil {
				t.Fatal(err)
			}
			for _, m := range model {
				m.comps = map[int64]modelComp{}
			}
		default:
			if rng.IntN(3) == 0 {
				if err := s.DeleteAllTasks(p); err != nil {
					t.Fatal(err)
				}
				model = map[int64]*modelTask{}
			}
		}
		checkModel(t, s, p, step, model, rng)
	}
}

func checkModel(t *testing.T, s *Store, p string, step int, model map[int64]*modelTask, rng *rand.Rand) {
	t.Helper()
	var want Counters
	var all, done, pending []int64
	for id, m := range model {
		want.Tasks++
		all = append(all, id)
		if len(m.comps) > 0 {
			want.CompletedTasks++
			done = append(done, id)
		} else {
			pending = append(pending, id)
		}
		for _, c := range m.comps {
			want.Completions++
			if c.cancelled {
				want.CancelledCompletions++
			}
		}
	}
	pr, err := s.Project(p)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Counters != want {
		t.Fatalf("step %d: counters %+v, recount %+v", step, pr.Counters, want)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	sort.Slice(done, func(i, j int) bool { return done[i] < done[j] })
	sort.Slice(pending, func(i, j int) bool { return pending[i] < pending[j] })
	next, err := s.NextTask(p, SamplingSequential)
	if len(pending) == 0 {
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("step %d: next with nothing pending: %v", step, err)
		}
	} else if err != nil || next.ID != pending[0] {
		t.Fatalf("step %d: next = %d %v, want %d", step, next.ID, err, pending[0])
	}
	got, _ := s.CompletedTaskIDs(p)
	if fmt.Sprint(got) != fmt.Sprint(nonNil(done)) {
		t.Fatalf("step %d: completed ids %v, want %v", step, got, done)
	}
	orders := map[string][]int64{OrderID: all}
	desc := append([]int64(nil), all...)
	sort.Slice(desc, func(i, j int) bool { return desc[i] > desc[j] })
	orders[OrderIDDesc] = desc
	byTime := func(asc bool) []int64 {
		d := append([]int64(nil), done...)
		sort.SliceStable(d, func(i, j int) bool {
			a, _ := model[d[i]].summary()
			b, _ := model[d[j]].summary()
			if a != b {
				return (a < b) == asc
			}
			return d[i] < d[j]
		})
		return append(d, pending...)
	}
	orders[OrderCompletedAt] = byTime(true)
	orders[OrderCompletedAtDesc] = byTime(false)
	byCancelled := func(asc bool) []int64 {
		d := append([]int64(nil), done...)
		sort.SliceStable(d, func(i, j int) bool {
			at, ac := model[d[i]].summary()
			bt, bc := model[d[j]].summary()
			if ac != bc {
				return (ac < bc) == asc
			}
			if at != bt {
				return at > bt
			}
			return d[i] < d[j]
		})
		return append(d, pending...)
	}
	orders[OrderHasCancelled] = byCancelled(true)
	orders[OrderHasCancelledDesc] = byCancelled(false)
	for order, ref := range orders {
		n := int64(len(ref))
		offset := int64(0)
		if n > 0 {
			offset = rng.Int64N(n + 2)
		}
		limit := 1 + rng.Int64N(30)
		list, err := s.ListTasks(p, order, offset, limit)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []int64
		for _, tk := range list {
			gotIDs = append(gotIDs, tk.ID)
			if tk.Completed() != (len(model[tk.ID].comps) > 0) {
				t.Fatalf("step %d: task %d completed=%v", step, tk.ID, tk.Completed())
			}
		}
		wantIDs := ref[min(offset, n):min(offset+limit, n)]
		if fmt.Sprint(nonNil(gotIDs)) != fmt.Sprint(nonNil(wantIDs)) {
			t.Fatalf("step %d: order %s offset %d limit %d: got %v want %v", step, order, offset, limit, gotIDs, wantIDs)
		}
	}
}

func nonNil(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}
