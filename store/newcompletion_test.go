package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	json "github.com/goccy/go-json"
)

// completionBodies are bodies of new completions, some with members of
// unexpected types and some in the way of the id or the encoding.
var completionBodies = []string{
	`{"result":[]}`,
	`{"lead_time": 1.5, "result": [{"id":"r1","from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`,
	`{"result":[{"from_name":"label","to_name":"text","type":"labels","value":{"start":0,"end":4,"labels":["PER","ORG"]}},{"from_name":"r","to_name":"text","type":"rating","value":{"rating":3}}]}`,
	`{"result":[{"from_name":"a","to_name":"b","type":"choices","value":{"choices":["<b>&amp;</b>"]}}], "note": "x < y & z"}`,
	`{"skipped": "yes", "result": []}`,
	`{"was_cancelled": "x", "created_at": "later", "result": []}`,
	`{"was_cancelled": true, "skipped": false, "result": []}`,
	`{"id": "not a number", "result": []}`,
	`{"id": null, "ID": 5, "Zeta": 1, "a": {"b" : [ 1, 2 ]}, "ünïcode": "✓", "result": []}`,
	`{"created_at": 12, "revision": 9, "honeypot": true}`,
	`{}`,
	`{"result": null, "meta": {"x": [1, {"y": "z"}]}}`,
}

// TestPrepareNewEncodesAsMarshal checks that a new completion's JSON, put
// together around its id, is byte for byte what json.Marshal makes of the
// whole object.
func TestPrepareNewEncodesAsMarshal(t *testing.T) {
	for _, body := range completionBodies {
		m, err := decodeObject([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		nc, err := prepareNew(m, 1_700_000_000)
		if err != nil || nc == nil {
			t.Fatalf("%s: %v %v", body, nc, err)
		}
		for _, id := range []int64{1, 42_017} {
			full := map[string]json.RawMessage{}
			for k, v := range m {
				full[k] = v
			}
			full["created_at"], full["revision"], full["id"] = rawInt(1_700_000_000), rawInt(1), rawInt(id)
			want, err := json.Marshal(full)
			if err != nil {
				t.Fatal(err)
			}
			if got := nc.encode(id); !bytes.Equal(got, want) {
				t.Fatalf("%s:\n got %s\nwant %s", body, got, want)
			}
		}
	}
	m, _ := decodeObject([]byte(`{"id": 7, "result": []}`))
	if nc, err := prepareNew(m, 1); nc != nil || err != nil {
		t.Fatalf("a body naming an integer id was prepared as new: %v %v", nc, err)
	}
}

// TestSaveNewAgreesWithSaveCompletion saves the same completions in two
// stores, through SaveCompletion (the prepared path) in one and through
// saveCompletion, the general path, in the other, and compares what they
// store: completions, summaries, order keys, label usage and counters.
func TestSaveNewAgreesWithSaveCompletion(t *testing.T) {
	fast, slow := openTest(t), openTest(t)
	clock := int64(1_600_000_000)
	var p string
	for _, s := range []*Store{fast, slow} {
		p = newProject(t, s)
		s.Now = func() time.Time { return time.Unix(clock, 0) }
		mustImport(t, s, p, textTask("a"), textTask("b"), textTask("c"), textTask("d"))
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	for step := range 200 {
		clock += int64(rnd.IntN(3))
		id := int64(rnd.IntN(4))
		body := []byte(completionBodies[rnd.IntN(len(completionBodies))])
		cancel := rnd.IntN(3) == 0
		if rnd.IntN(10) == 0 {
			// A deletion now and then: ids are not reused, summaries shrink.
			for _, s := range []*Store{fast, slow} {
				cs, err := s.Completions(p, id)
				if err != nil {
					t.Fatal(err)
				}
				if len(cs) > 0 {
					if err := s.DeleteCompletion(p, id, cs[0].ID); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		fid, err := fast.SaveCompletion(p, id, body, cancel)
		if err != nil {
			t.Fatal(err)
		}
		// The general path, as SaveCompletion took it before the prepared one.
		m, _ := decodeObject(body)
		if cancel {
			m["was_cancelled"] = json.RawMessage("true")
		} else {
			delete(m, "was_cancelled")
			delete(m, "skipped")
		}
		var sid int64
		if err := slow.batch(p, func(t *ptx) error {
			var err error
			sid, err = t.saveCompletion(id, m, clock)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if fid != sid {
			t.Fatalf("step %d: ids %d and %d", step, fid, sid)
		}
		if a, b := dumpProject(t, fast, p), dumpProject(t, slow, p); a != b {
			t.Fatalf("step %d (%s, cancel %v): the stores differ:\nprepared: %s\ngeneral:  %s", step, body, cancel, a, b)
		}
	}
	// And the summaries are what summarize reads from the completions.
	if err := fast.view(p, func(tx *ptx) error {
		for id := range int64(4) {
			stored := summary{}
			if st := tx.state(id); st != nil {
				stored = decodeSummary(st)
				stored.seq = 0
			}
			if got := tx.summarize(id); got != stored {
				return fmt.Errorf("task %d: summary %+v stored, %+v read", id, stored, got)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// dumpProject renders every key and value of the buckets a completion
// changes, and the counters.
func dumpProject(t *testing.T, s *Store, p string) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.view(p, func(tx *ptx) error {
		for _, name := range [][]byte{bucketCompletions, bucketOrders, bucketLabelUsage, bucketPendingBits, bucketByScore} {
			fmt.Fprintf(&b, "%s:", name)
			if err := tx.bk(name).ForEach(func(k, v []byte) error {
				fmt.Fprintf(&b, " %x=%q", k, v)
				return nil
			}); err != nil {
				return err
			}
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "counters: %s", tx.b.Get(keyCounters))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
