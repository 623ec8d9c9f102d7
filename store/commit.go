package store

import (
	"errors"
	"sync"

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
	for first := range c.ch {
		calls := []*groupCall{first}
	gather:
		for len(calls) < maxGroup {
			select {
			case next, ok := <-c.ch:
				if !ok {
					break gather
				}
				calls = append(calls, next)
			default:
				break gather
			}
		}
		c.commit(calls)
	}
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
