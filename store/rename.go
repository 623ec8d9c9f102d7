package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// RenameProject gives a project a new name, keeping its uuid, settings,
// tasks and completions. The copy happens in one transaction, so it is
// atomic but takes time and memory in proportion to the project.
func (s *Store) RenameProject(from, to string) error {
	if to == "" {
		return Invalidf("the new project name is empty")
	}
	if from == to {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		src, err := projectBucket(tx, from)
		if err != nil {
			return err
		}
		root := tx.Bucket(bucketProjects)
		if root.Bucket([]byte(to)) != nil {
			return Conflictf("project %q already exists", to)
		}
		dst, err := root.CreateBucket([]byte(to))
		if err != nil {
			return fmt.Errorf("rename project %q: %w", from, err)
		}
		if err := copyBucket(dst, src); err != nil {
			return fmt.Errorf("rename project %q: %w", from, err)
		}
		return root.DeleteBucket([]byte(from))
	})
}

// copyBucket copies every key and nested bucket of src into dst.
func copyBucket(dst, src *bolt.Bucket) error {
	dst.FillPercent = 1
	return src.ForEach(func(k, v []byte) error {
		if v != nil {
			return dst.Put(append([]byte(nil), k...), append([]byte(nil), v...))
		}
		child, err := dst.CreateBucket(append([]byte(nil), k...))
		if err != nil {
			return err
		}
		return copyBucket(child, src.Bucket(k))
	})
}
