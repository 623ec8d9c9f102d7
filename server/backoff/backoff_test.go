package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

var (
	errAgain = errors.New("again")
	errFinal = errors.New("final")
)

func retryable(err error) bool { return errors.Is(err, errAgain) }

func TestDo(t *testing.T) {
	for _, c := range []struct {
		name      string
		attempts  int
		results   []error // what fn returns on each call; the last one repeats
		wantCalls int
		want      error
	}{
		{"success at once", 3, []error{nil}, 1, nil},
		{"success on the third call", 3, []error{errAgain, errAgain, nil}, 3, nil},
		{"attempts spent", 3, []error{errAgain}, 3, errAgain},
		{"an error for good stops", 5, []error{errAgain, errFinal, nil}, 2, errFinal},
		{"one attempt", 1, []error{errAgain}, 1, errAgain},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			err := Do(context.Background(), c.attempts, time.Microsecond, retryable, func() error {
				r := c.results[min(calls, len(c.results)-1)]
				calls++
				return r
			})
			if calls != c.wantCalls || !errors.Is(err, c.want) {
				t.Fatalf("%d calls, error %v; want %d calls, error %v", calls, err, c.wantCalls, c.want)
			}
		})
	}
}

// A context ended during a wait ends the retries with the last error.
func TestDoContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Do(ctx, 10, time.Hour, retryable, func() error {
		calls++
		cancel()
		return errAgain
	})
	if calls != 1 || !errors.Is(err, errAgain) {
		t.Fatalf("%d calls, error %v; want 1 call and the last error", calls, err)
	}
}

// The waits double: 1, 2 and 4 units before the second, third and fourth
// calls.
func TestDoDoubles(t *testing.T) {
	var at []time.Time
	const unit = 20 * time.Millisecond
	_ = Do(context.Background(), 4, unit, retryable, func() error {
		at = append(at, time.Now())
		return errAgain
	})
	if len(at) != 4 {
		t.Fatalf("%d calls, want 4", len(at))
	}
	for i, want := range []time.Duration{unit, 2 * unit, 4 * unit} {
		if got := at[i+1].Sub(at[i]); got < want {
			t.Errorf("wait %d lasted %v, want at least %v", i+1, got, want)
		}
	}
}
