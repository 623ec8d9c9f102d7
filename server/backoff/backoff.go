// Package backoff calls an operation again after failures it may recover
// from, waiting twice as long before each new attempt.
package backoff

import (
	"context"
	"time"
)

// Do calls fn until it succeeds, until retry says its error is for good,
// until attempts calls are spent, or until ctx is done, and returns fn's
// last error. It waits delay before the second call and doubles the wait
// before each next one; a wait ends early when ctx is done.
func Do(ctx context.Context, attempts int, delay time.Duration, retry func(error) bool, fn func() error) error {
	for try := 1; ; try++ {
		err := fn()
		if err == nil || try >= attempts || !retry(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay *= 2
	}
}
