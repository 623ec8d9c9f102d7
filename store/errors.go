package store

import (
	"errors"
	"fmt"
)

// Error kinds. Every error the store returns for a caller's mistake wraps one
// of these, so that a transport layer can map it to a status code with
// errors.Is.
var (
	// ErrNotFound means the named project, task or completion does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means the input is malformed or breaks a rule.
	ErrInvalid = errors.New("invalid input")
	// ErrConflict means the operation clashes with what is stored.
	ErrConflict = errors.New("conflict")
	// ErrNotAllowed means the project settings forbid the operation.
	ErrNotAllowed = errors.New("not allowed")
	// ErrLocked means another process holds the database file.
	ErrLocked = errors.New("database is locked by another process")
)

// Error is a store error with a human-readable message and a kind.
type Error struct {
	Kind error
	Msg  string
}

// Error returns the human-readable message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundf builds an ErrNotFound error with a message.
func NotFoundf(format string, args ...any) error { return errorf(ErrNotFound, format, args...) }

// Invalidf builds an ErrInvalid error with a message.
func Invalidf(format string, args ...any) error { return errorf(ErrInvalid, format, args...) }

// NotAllowedf builds an ErrNotAllowed error with a message.
func NotAllowedf(format string, args ...any) error { return errorf(ErrNotAllowed, format, args...) }

// Conflictf builds an ErrConflict error with a message.
func Conflictf(format string, args ...any) error { return errorf(ErrConflict, format, args...) }
