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
// next commit takes all of them. Unlike bbolt's Batch it never waits on a
// timer, so a lone writer commits at once and concurrent writers share the
// fsync. Every write is acknowledged only after its commit is on disk.
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
	var last time.Duration // how long it took
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for first := range c.ch {
		calls := c.gather([]*groupCall{first}, expect, min(last, maxGather), timer)
		start := time.Now()
		c.commit(calls)
		last = time.Since(start)
		// The writers this commit released will most likely write
		// again, and so will those that queued meanwhile: expect them
		// all in the next commit. Counting only the released ones lets
		// two halves of the writers settle into alternate commits of
		// half the size, which pays two fsyncs where one would do.
		expect = min(len(calls)+len(c.ch), maxGroup)
	}
}

// maxGather bounds how long a commit waits for writers to come back.
const maxGather = 2 * time.Millisecond

// gather adds the queued writes to calls. A commit that carried several
// writes released several writers, and each is likely to send its next
// write at once; so when fewer than expect writes are queued, it waits up
// to wait for the others instead of committing a part of them and making
// the rest wait a whole commit. The wait ends as soon as expect writes are
// in; a lone writer (expect 1) never waits.
func (c *committer) gather(calls []*groupCall, expect int, wait time.Duration, timer *time.Timer) []*groupCall {
	var deadline time.Time
	for len(calls) < maxGroup {
		select {
		case next, ok := <-c.ch:
			if !ok {
				return calls
			}
			calls = append(calls, next)
			continue
		default:
		}
		if len(calls) >= expect || wait <= 0 {
			return calls
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(wait)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return calls
		}
		timer.Reset(left)
		select {
		case next, ok := <-c.ch:
			timer.Stop()
			if !ok {
				return calls
			}
			calls = append(calls, next)
		case <-timer.C:
			return calls
		}
	}
	return calls
}

// commit runs calls in one transaction. If one fails, the transaction is
// rolled back and every call runs again on its own, so that one bad write
// does not fail the others.
func (c *committer) commit(calls []*groupCall) {
	err := c.db.Update(func(tx *bolt.Tx) error {
		for _, call := range calls {
			if err := call.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(calls) == 1 {
		for _, call := range calls {
			call.err <- err
		}
		return
	}
	for _, call := range calls {
		call.err <- c.db.Update(call.fn)
	}
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
