package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestCommitterSharesAndIsolates queues writes behind one that holds the
// shared transaction open, so that they land in one round, some of them
// failing: every write gets its own answer, the good ones are stored, the
// failed ones leave nothing, and the round was shared.
func TestCommitterSharesAndIsolates(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	c := newCommitter(db)
	defer c.close()

	var runs sync.Map // key → how many times its write ran
	put := func(key string, fail bool) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			n, _ := runs.LoadOrStore(key, new(int))
			*n.(*int)++
			if err := tx.Bucket([]byte("b")).Put([]byte(key), []byte("v")); err != nil {
				return err
			}
			if fail {
				return fmt.Errorf("write %s refused", key)
			}
			return nil
		}
	}
	for _, failing := range [][]int{nil, {3}, {0, 5}} {
		runs.Clear()
		hold, held := make(chan struct{}), make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- c.do(func(tx *bolt.Tx) error {
				if err := put(fmt.Sprint(failing, "first"), false)(tx); err != nil {
					return err
				}
				select {
				case <-held: // a second run, on its own
				default:
					close(held)
					<-hold
				}
				return nil
			})
		}()
		<-held
		const n = 6
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			fail := false
			for _, f := range failing {
				fail = fail || f == i
			}
			wg.Go(func() { errs[i] = c.do(put(fmt.Sprint(failing, i), fail)) })
		}
		for len(c.ch) < n { // all queued behind the open transaction
			time.Sleep(time.Millisecond)
		}
		close(hold)
		wg.Wait()
		if err := <-first; err != nil {
			t.Fatalf("%v: the first write: %v", failing, err)
		}
		if err := db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte("b"))
			if b.Get([]byte(fmt.Sprint(failing, "first"))) == nil {
				return errors.New("the first write is missing")
			}
			for i := range n {
				bad := false
				for _, f := range failing {
					bad = bad || f == i
				}
				stored := b.Get([]byte(fmt.Sprint(failing, i))) != nil
				switch {
				case bad && (errs[i] == nil || stored):
					return fmt.Errorf("failing write %d: error %v, stored %v", i, errs[i], stored)
				case !bad && (errs[i] != nil || !stored):
					return fmt.Errorf("good write %d: error %v, stored %v", i, errs[i], stored)
				}
			}
			return nil
		}); err != nil {
			t.Fatalf("%v: %v", failing, err)
		}
		// Without a failure every write ran once, in the shared round.
		if len(failing) == 0 {
			runs.Range(func(k, v any) bool {
				if *v.(*int) != 1 {
					t.Errorf("write %v ran %d times", k, *v.(*int))
				}
				return true
			})
		}
	}
}
