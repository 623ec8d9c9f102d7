package labelconfig

import (
	"errors"
	"fmt"
	"strings"
)

// Limits enforced on every config before or while it is parsed. A config that
// exceeds one of them is rejected with an *Error naming the limit.
const (
	// MaxConfigSize is the largest accepted config, in bytes (2 MiB).
	MaxConfigSize = 2 << 20
	// MaxDepth is the deepest accepted element nesting; the root element is
	// at depth 1.
	MaxDepth = 100
	// MaxElements is the largest accepted number of elements in a config.
	MaxElements = 100000
	// MaxMessages is the largest number of messages one *Error carries;
	// further problems are summarised in a last message.
	MaxMessages = 20
)

// Error is a config that failed to parse or validate. Messages are
// human-readable, one problem each; schema problems use the 0.8.1 style
// "Validation failed on <path>: <message>", where the path names the tag and
// the attribute at fault.
type Error struct {
	Messages []string
}

// Error joins the messages with "; ".
func (e *Error) Error() string {
	if e == nil || len(e.Messages) == 0 {
		return "invalid label config"
	}
	return strings.Join(e.Messages, "; ")
}

// AsError reports whether err is or wraps an *Error and returns it.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// newError builds an *Error from a single formatted message.
func newError(format string, args ...any) *Error {
	return &Error{Messages: []string{fmt.Sprintf(format, args...)}}
}

// messageList collects messages and caps them at MaxMessages.
type messageList struct {
	msgs    []string
	dropped int
}

func (l *messageList) add(format string, args ...any) {
	if len(l.msgs) >= MaxMessages {
		l.dropped++
		return
	}
	l.msgs = append(l.msgs, fmt.Sprintf(format, args...))
}

func (l *messageList) empty() bool { return len(l.msgs) == 0 }

func (l *messageList) full() bool { return len(l.msgs) >= MaxMessages }

// err returns the collected messages as an *Error, or nil when there are
// none. When messages were dropped, the last slot summarises how many
// problems are not shown.
func (l *messageList) err() *Error {
	if l.empty() {
		return nil
	}
	msgs := l.msgs
	if l.dropped > 0 {
		msgs = append(msgs[:MaxMessages-1:MaxMessages-1],
			fmt.Sprintf("... and %d more problems", l.dropped+1))
	}
	return &Error{Messages: msgs}
}
