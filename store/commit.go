package store

import (
	"errors"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// errClosed is returned for writes submitted after Close.
var errClosed = errors.New("the database is closed")

// maxGroup bounds how many writes share one commit.
const maxGroup = 512

// committer groups concurrent small writes into shared transactions: while
// one commit (and its fsync) runs, the writes that arrive queue up, and the
// next commit takes all of them. Unlike bbolt's Batch it has no fixed
// delay: a lone writer commits at once, and a round waits (at most as long
// as the last commit took) only for writers the last round suggests are
// coming (see gather). Every write is acknowledged only after its commit
// is on disk.
type committer struct {
	db *bolt.DB

	mu     sync.RWMutex
	closed bool
	ch     chan *groupCall
	done   chan struct{}
}

type groupCall struct {
	fn  func(*bolt.Tx) error
	err chan error
}

func newCommitter(db *bolt.DB) *committer {
	c := &committer{db: db, ch: make(chan *groupCall, maxGroup), done: make(chan struct{})}
	go c.loop()
	return c
}

// do runs fn in a shared write transaction and returns its error once the
// transaction is committed (or rolled back). fn may run more than once.
func (c *committer) do(fn func(*bolt.Tx) error) error {
	call := &groupCall{fn: fn, err: make(chan error, 1)}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return errClosed
	}
	c.ch <- call
	c.mu.RUnlock()
	return <-call.err
}

func (c *committer) loop() {
	defer close(c.done)
	expect := 1            // how many writes the last commit carried
	var last time.Duration // how long its commit took
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for first := range c.ch {
		var n int
		n, last = c.round(first, expect, min(last, maxGather), timer)
		// The writers this commit released will most likely write
		// again, and so will those that queued meanwhile: expect them
		// all in the next commit. Counting only the released ones lets
		// two halves of the writers settle into alternate commits of
		// half the size, which pays two fsyncs where one would do.
		expect = min(n+len(c.ch), maxGroup)
	}
}

// maxGather bounds how long a commit waits for writers to come back.
const maxGather = 2 * time.Millisecond

// round runs one shared transaction: it begins with first, gathers more
// writes (gather), running each in the transaction as soon as it arrives,
// so that the writes run while the committer waits for the others, and
// commits. If a write fails, the transaction is rolled back and every
// write runs again on its own, so that one bad write does not fail the
// others. It returns how many writes the round took and how long its
// commit (or its writes run on their own) took.
func (c *committer) round(first *groupCall, expect int, wait time.Duration, timer *time.Timer) (int, time.Duration) {
	tx, err := c.db.Begin(true)
	if err != nil {
		first.err <- err
		return 1, 0
	}
	calls := []*groupCall{first}
	err = first.fn(tx)
	if err == nil {
		calls, err = c.gather(tx, calls, expect, wait, timer)
	}
	start := time.Now()
	if err == nil {
		err = tx.Commit()
	} else {
		_ = tx.Rollback()
	}
	if err == nil || len(calls) == 1 {
		for _, call := range calls {
			call.err <- err
		}
		return len(calls), time.Since(start)
	}
	for _, call := range calls {
		call.err <- c.db.Update(call.fn)
	}
	return len(calls), time.Since(start)
}

// gather adds the queued writes to calls, running each in tx. A commit
// that carried several writes released several writers, and each is
// likely to send its next write at once; so when fewer than expect writes
// are in, it waits up to wait for the others instead of committing a part
// of them and making the rest wait a whole commit. The wait ends as soon
// as expect writes are in; a lone writer (expect 1) never waits. It stops
// at the first write that fails and returns its error.
func (c *committer) gather(tx *bolt.Tx, calls []*groupCall, expect int, wait time.Duration, timer *time.Timer) ([]*groupCall, error) {
	var deadline time.Time
	for len(calls) < maxGroup {
		select {
		case next, ok := <-c.ch:
			if !ok {
				return calls, nil
			}
			calls = append(calls, next)
			if err := next.fn(tx); err != nil {
				return calls, err
			}
			continue
		default:
		}
		if len(calls) >= expect || wait <= 0 {
			return calls, nil
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(wait)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return calls, nil
		}
		timer.Reset(left)
		select {
		case next, ok := <-c.ch:
			timer.Stop()
			if !ok {
				return calls, nil
			}
			calls = append(calls, next)
			if err := next.fn(tx); err != nil {
				return calls, err
			}
		case <-timer.C:
			return calls, nil
		}
	}
	return calls, nil
}

// close stops accepting writes and waits for queued ones to finish.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.ch)
	}
	c.mu.Unlock()
	<-c.done
}
