package store

import (
	"path/filepath"
	"testing"
	"time"
)

// openTest opens a store in a temp dir; at cleanup it runs bbolt's
// consistency check and closes it.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "test.db"), Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Errorf("consistency check: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func newProject(t testing.TB, s *Store) string {
	t.Helper()
	if _, err := s.CreateProject("p", DefaultSettings(), `<View><Text name="text" value="$text"/></View>`); err != nil {
		t.Fatal(err)
	}
	return "p"
}
