package store

import (
	"fmt"
	"strconv"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// keyImportPending marks an import in progress in a project's meta bucket:
// its value is the first id the import may have used. A store that opens
// with the mark set rolls the import back.
var keyImportPending = []byte("import_pending")

// importChunkMax is the largest chunk Importer.Add takes, to keep each
// transaction well under 100k keys.
const importChunkMax = 10_000

// importLock serializes imports into one project, so that ids stay
// contiguous per import.
func (s *Store) importLock(project string) *sync.Mutex {
	s.importMu.Lock()
	defer s.importMu.Unlock()
	if s.importLocks == nil {
		s.importLocks = map[string]*sync.Mutex{}
	}
	m, ok := s.importLocks[project]
	if !ok {
		m = &sync.Mutex{}
		s.importLocks[project] = m
	}
	return m
}

// Importer writes a big import in chunks, each in its own transaction,
// while keeping the import all-or-nothing: until Commit, Abort (or a crash
// and the next Open) removes every task it added.
type Importer struct {
	s       *Store
	project string
	opts    ImportOptions
	now     int64
	first   int64
	next    int64
	res     ImportResult
	done    bool
	unlock  func()
	known   map[[16]byte]bool
}

// BeginImport starts an import into a project. Only one import runs per
// project at a time; a second one waits for the first to end.
func (s *Store) BeginImport(project string, opts ImportOptions) (*Importer, error) {
	lock := s.importLock(project)
	lock.Lock()
	im := &Importer{s: s, project: project, opts: opts, now: s.Now().Unix(), unlock: lock.Unlock}
	err := s.update(project, func(t *ptx) error {
		im.first = max(t.nextID(), opts.FirstID)
		im.next = im.first
		return t.bk(bucketMeta).Put(keyImportPending, []byte(strconv.FormatInt(im.first, 10)))
	})
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	return im, nil
}

// Add stores a chunk of at most 10,000 tasks in its own transaction. On an
// error nothing of the chunk is stored; the caller should then Abort.
func (im *Importer) Add(tasks []NewTask) error {
	if im.done {
		return fmt.Errorf("import already ended")
	}
	if len(tasks) > importChunkMax {
		return Invalidf("an import chunk holds at most %d tasks, got %d", importChunkMax, len(tasks))
	}
	if err := checkDataObjects(tasks, im.res.Stored+im.res.Skipped); err != nil {
		return err
	}
	// importChunk appends to res; on failure im.res keeps its old length.
	res := im.res
	var next int64
	err := im.s.update(im.project, func(t *ptx) error {
		var err error
		next, err = t.importChunk(tasks, max(im.next, t.nextID()), im.opts, im.now, &res, &im.known)
		return err
	})
	if err != nil {
		im.known = nil // it may hold hashes of the chunk that was not stored
		return err
	}
	im.res, im.next = res, next
	return nil
}

// Result is what the import stored so far.
func (im *Importer) Result() ImportResult { return im.res }

// Commit makes the import final and returns what it stored.
func (im *Importer) Commit() (ImportResult, error) {
	if im.done {
		return im.res, fmt.Errorf("import already ended")
	}
	err := im.s.update(im.project, func(t *ptx) error {
		return t.bk(bucketMeta).Delete(keyImportPending)
	})
	if err != nil {
		return ImportResult{}, err
	}
	im.done = true
	im.unlock()
	return im.res, nil
}

// Abort removes every task the import added, with their completions, in
// transactions of at most 10,000 tasks each; the mark stays until the last,
// so a crash in between still ends in a full rollback at the next Open.
func (im *Importer) Abort() error {
	if im.done {
		return nil
	}
	err := im.s.rollbackAll(im.project)
	im.done = true
	im.unlock()
	return err
}

// rollbackAll runs rollbackImport until the project's import mark is gone.
func (s *Store) rollbackAll(project string) error {
	for {
		var finished bool
		err := s.db.Update(func(tx *bolt.Tx) error {
			var err error
			finished, err = s.rollbackImport(tx, project)
			return err
		})
		if err != nil || finished {
			return err
		}
	}
}

// rollbackImport deletes up to importChunkMax tasks of an unfinished
// import of a project (the tasks with an id at or above the mark), and
// clears the mark once none is left. finished tells whether it did.
func (s *Store) rollbackImport(tx *bolt.Tx, project string) (finished bool, err error) {
	t, err := s.begin(tx, project)
	if err != nil {
		return false, err
	}
	mark := t.bk(bucketMeta).Get(keyImportPending)
	if mark == nil {
		return true, nil
	}
	first, err := strconv.ParseInt(string(mark), 10, 64)
	if err != nil {
		return false, fmt.Errorf("project %q: bad import mark %q: %w", project, mark, err)
	}
	var ids []int64
	c := t.bk(bucketTasks).Cursor()
	for k, _ := c.Seek(idKey(first)); k != nil && len(ids) < importChunkMax; k, _ = c.Next() {
		ids = append(ids, keyID(k))
	}
	for _, id := range ids {
		if err := t.deleteTask(id); err != nil {
			return false, err
		}
	}
	if len(ids) < importChunkMax {
		if err := t.bk(bucketMeta).Delete(keyImportPending); err != nil {
			return false, err
		}
		finished = true
	}
	return finished, t.finish()
}

// recoverImports rolls back imports a crash left unfinished.
func (s *Store) recoverImports() error {
	var names []string
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketProjects)
		return root.ForEachBucket(func(k []byte) error {
			if root.Bucket(k).Bucket(bucketMeta).Get(keyImportPending) != nil {
				names = append(names, string(k))
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := s.rollbackAll(n); err != nil {
			return err
		}
	}
	return nil
}
