package store

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	json "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole database to w while the
// store stays in use (one read transaction; writers are not blocked).
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

// BackupFile writes a backup to path, through a temporary file renamed
// into place once complete and synced.
func (s *Store) BackupFile(path string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".backup-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := s.Backup(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return n, fmt.Errorf("backup to %s: %w", path, err)
	}
	return n, nil
}

// ExactCompletion is a completion to restore with its own id and time.
type ExactCompletion struct {
	ID int64
	// Body is the completion object; its id and created_at are set from
	// ID and CreatedAt.
	Body json.RawMessage
	// CreatedAt is the completion time (Unix seconds); HasCreatedAt false
	// keeps it absent (it then sorts as the oldest).
	CreatedAt    int64
	HasCreatedAt bool
}

// ExactTask is a task to restore under its own id.
type ExactTask struct {
	ID          int64
	Task        NewTask
	Completions []ExactCompletion
}

// RestoreTasks stores tasks under their own ids with their completions'
// own ids and times, as a migration from another installation needs. A
// task id that exists already is a conflict and nothing is stored.
func (s *Store) RestoreTasks(project string, tasks []ExactTask) error {
	return s.update(project, func(t *ptx) error {
		for _, et := range tasks {
			if et.ID < 0 {
				return Invalidf("task id %d is negative", et.ID)
			}
			if t.bk(bucketTasks).Get(idKey(et.ID)) != nil {
				return Conflictf("task %d exists already", et.ID)
			}
			var res ImportResult
			var known map[[16]byte]bool
			if _, err := t.importChunk([]NewTask{et.Task}, et.ID, ImportOptions{}, 0, &res, &known); err != nil {
				return fmt.Errorf("task %d: %w", et.ID, err)
			}
			for _, c := range et.Completions {
				m, err := decodeObject(c.Body)
				if err != nil {
					return fmt.Errorf("task %d, completion %d: %w", et.ID, c.ID, err)
				}
				if t.bk(bucketCompletions).Get(completionKey(et.ID, c.ID)) != nil {
					return Conflictf("task %d has two completions with id %d", et.ID, c.ID)
				}
				m["id"] = rawInt(c.ID)
				delete(m, "created_at")
				if c.HasCreatedAt {
					m["created_at"] = rawInt(c.CreatedAt)
				}
				if err := t.putCompletion(et.ID, c.ID, m, t.summarize(et.ID)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
