package store

import (
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Options tune how a store is opened.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// database file before it gives up with ErrLocked. Zero means one second.
	Timeout time.Duration
	// NoSync skips fsync after each commit. Only for tests and benchmarks:
	// with it, an acknowledged write can be lost on a crash.
	NoSync bool
	// ReadOnly opens the file without taking the write lock.
	ReadOnly bool
}

// Store is an open labelstudio database.
type Store struct {
	db     *bolt.DB
	path   string
	writes *committer

	rndMu sync.Mutex
	rnd   *rand.Rand

	importMu    sync.Mutex
	importLocks map[string]*sync.Mutex

	// Now returns the current time; tests may replace it.
	Now func() time.Time
}

// Counters are a project's stored counts, kept up to date by every write.
type Counters struct {
	// Tasks is the number of tasks.
	Tasks int64 `json:"tasks"`
	// CompletedTasks is the number of tasks with at least one completion
	// (skipped ones included): the API's completion_count.
	CompletedTasks int64 `json:"completed_tasks"`
	// Completions is the number of completions.
	Completions int64 `json:"completions"`
	// CancelledCompletions is the number of skipped completions.
	CancelledCompletions int64 `json:"cancelled_completions"`
	// Predictions is the number of predictions stored on tasks.
	Predictions int64 `json:"predictions"`
}

// Project is a snapshot of a project's settings, config and counters.
type Project struct {
	Name        string
	UUID        string
	Settings    Settings
	LabelConfig string
	// ConfigRevision counts the saves of the labeling config.
	ConfigRevision int64
	Counters       Counters
}

// Open opens (creating if needed) the database file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      opts.Timeout,
		NoSync:       opts.NoSync,
		ReadOnly:     opts.ReadOnly,
		FreelistType: bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, &Error{Kind: ErrLocked, Msg: fmt.Sprintf("%s is in use by another labelstudio process", path)}
		}
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db, path: path, writes: newCommitter(db), rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed)), Now: time.Now}
	if !opts.ReadOnly {
		if err := db.Update(upgrade); err != nil {
			db.Close()
			return nil, fmt.Errorf("initialise database: %w", err)
		}
		if err := s.recoverImports(); err != nil {
			s.Close()
			return nil, fmt.Errorf("roll back an unfinished import: %w", err)
		}
	}
	return s, nil
}

// upgrade creates the top bucket and brings projects written by an older
// version to the current layout: the buckets added since are created, and
// layout 1's pending index (a key per pending task, and a count per block)
// and content hashes (a key per task) become layout 2's per-block values,
// its four order buckets become one, and its counters move from meta to
// the project bucket; the task summaries of layouts 1 and 2 (bucket state)
// move into bucket completions, and the orders are rebuilt from them with
// layout 3's keys.
func upgrade(tx *bolt.Tx) error {
	root, err := tx.CreateBucketIfNotExists(bucketProjects)
	if err != nil {
		return err
	}
	return root.ForEachBucket(func(name []byte) error {
		pb := root.Bucket(name)
		for _, b := range projectBuckets {
			if pb.Bucket(b) == nil {
				if _, err := pb.CreateBucket(b); err != nil {
					return fmt.Errorf("upgrade project %q: %w", name, err)
				}
			}
		}
		meta := pb.Bucket(bucketMeta)
		if string(meta.Get(keySchema)) == schemaVersion {
			return nil
		}
		if c := meta.Get(keyCounters); c != nil {
			// Layout 1 kept the counters in meta.
			if err := pb.Put(keyCounters, append([]byte(nil), c...)); err != nil {
				return fmt.Errorf("upgrade project %q: %w", name, err)
			}
			if err := meta.Delete(keyCounters); err != nil {
				return fmt.Errorf("upgrade project %q: %w", name, err)
			}
		}
		// The summaries first: the pending index is rebuilt from them.
		if old := pb.Bucket(layout2State); old != nil {
			cb := pb.Bucket(bucketCompletions)
			err := old.ForEach(func(k, v []byte) error {
				return cb.Put(append([]byte(nil), k...), append([]byte(nil), v...))
			})
			if err == nil {
				err = pb.DeleteBucket(layout2State)
			}
			if err != nil {
				return fmt.Errorf("upgrade project %q: %w", name, err)
			}
		}
		if pb.Bucket(layout1Pending) != nil {
			t := &ptx{tx: tx, b: pb}
			if err := t.rebuildPending(); err != nil {
				return fmt.Errorf("upgrade project %q: %w", name, err)
			}
			for _, b := range [][]byte{layout1Pending, layout1BlocksPending} {
				if err := pb.DeleteBucket(b); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
					return fmt.Errorf("upgrade project %q: %w", name, err)
				}
			}
		}
		if old := pb.Bucket(layout1DataHash); old != nil {
			batch := hashBatch{}
			hb := pb.Bucket(bucketHashBlocks)
			err := old.ForEach(func(k, v []byte) error {
				batch.add(keyID(k), [16]byte(v))
				if len(batch) >= 64 {
					return batch.flush(hb)
				}
				return nil
			})
			if err == nil {
				err = batch.flush(hb)
			}
			if err == nil {
				err = pb.DeleteBucket(layout1DataHash)
			}
			if err != nil {
				return fmt.Errorf("upgrade project %q: %w", name, err)
			}
		}
		// The orders are rebuilt from the summaries, whose keys now carry a
		// seq (the task id, as for imported tasks).
		for _, o := range layout1Orders {
			if err := pb.DeleteBucket(o); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return fmt.Errorf("upgrade project %q: %w", name, err)
			}
		}
		if err := (&ptx{tx: tx, b: pb}).rebuildOrders(); err != nil {
			return fmt.Errorf("upgrade project %q: %w", name, err)
		}
		return meta.Put(keySchema, []byte(schemaVersion))
	})
}

// layout1Orders are layout 1's order buckets, replaced by bucket orders.
var layout1Orders = [][]byte{
	[]byte("by_completed"), []byte("by_completed_desc"), []byte("by_cancelled"), []byte("by_cancelled_desc"),
}

// Buckets of layout 1 that layout 2 replaced by pending_bits and
// hash_blocks, and the summaries' bucket of layouts 1 and 2.
var (
	layout2State         = []byte("state")
	layout1Pending       = []byte("pending")
	layout1BlocksPending = []byte("blocks_pending")
	layout1DataHash      = []byte("data_hash")
)

// bucketServer holds server-wide values such as the session secret.
var bucketServer = []byte("server")

// Secret returns the named random secret of this installation, creating
// it (32 bytes) on first use.
func (s *Store) Secret(name string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketServer); b != nil {
			out = append([]byte(nil), b.Get([]byte(name))...)
		}
		return nil
	})
	if err != nil || len(out) > 0 {
		return out, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketServer)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(name)); v != nil {
			out = append([]byte(nil), v...)
			return nil
		}
		out = make([]byte, 32)
		if _, err := cryptorand.Read(out); err != nil {
			return err
		}
		return b.Put([]byte(name), out)
	})
	return out, err
}

// Close closes the database file.
func (s *Store) Close() error {
	s.writes.close()
	return s.db.Close()
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// DB exposes the underlying bbolt handle for consistency checks and backups.
func (s *Store) DB() *bolt.DB { return s.db }

// Check runs bbolt's consistency check and returns every problem found.
func (s *Store) Check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// CreateProject creates a project with the given settings and labeling
// config and a new uuid. It fails with ErrConflict when the name is taken.
func (s *Store) CreateProject(name string, settings Settings, labelConfig string) (*Project, error) {
	return s.CreateProjectWithUUID(name, NewUUID(), settings, labelConfig)
}

// CreateProjectWithUUID is CreateProject with a given uuid.
func (s *Store) CreateProjectWithUUID(name, uuid string, settings Settings, labelConfig string) (*Project, error) {
	if name == "" {
		return nil, Invalidf("project name is empty")
	}
	var p *Project
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketProjects)
		if root.Bucket([]byte(name)) != nil {
			return Conflictf("project %q already exists", name)
		}
		var err error
		p, err = createProject(root, name, uuid, settings, labelConfig)
		return err
	})
	return p, err
}

// EnsureProject returns the named project, creating it with the given
// settings and config when it does not exist yet. created tells which.
func (s *Store) EnsureProject(name string, settings Settings, labelConfig string) (p *Project, created bool, err error) {
	p, err = s.Project(name)
	if err == nil {
		return p, false, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	p, err = s.CreateProject(name, settings, labelConfig)
	if errors.Is(err, ErrConflict) {
		p, err = s.Project(name)
		return p, false, err
	}
	return p, err == nil, err
}

func createProject(root *bolt.Bucket, name, id string, settings Settings, labelConfig string) (*Project, error) {
	pb, err := root.CreateBucket([]byte(name))
	if err != nil {
		return nil, fmt.Errorf("create project %q: %w", name, err)
	}
	for _, b := range projectBuckets {
		if _, err := pb.CreateBucket(b); err != nil {
			return nil, fmt.Errorf("create project %q: %w", name, err)
		}
	}
	if settings.MLBackends == nil {
		settings.MLBackends = []MLBackend{}
	}
	sj, err := json.Marshal(settings)
	if err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	if err := pb.Put(keyCounters, []byte("{}")); err != nil {
		return nil, fmt.Errorf("create project %q: %w", name, err)
	}
	meta := pb.Bucket(bucketMeta)
	for k, v := range map[string][]byte{
		string(keySettings):    sj,
		string(keyLabelConfig): []byte(labelConfig),
		string(keyUUID):        []byte(id),
		string(keySchema):      []byte(schemaVersion),
	} {
		if err := meta.Put([]byte(k), v); err != nil {
			return nil, fmt.Errorf("create project %q: %w", name, err)
		}
	}
	return &Project{Name: name, UUID: id, Settings: settings, LabelConfig: labelConfig}, nil
}

// Project returns a snapshot of the named project.
func (s *Store) Project(name string) (*Project, error) {
	var p *Project
	err := s.db.View(func(tx *bolt.Tx) error {
		pb, err := projectBucket(tx, name)
		if err != nil {
			return err
		}
		p, err = readProject(pb, name)
		return err
	})
	return p, err
}

func projectBucket(tx *bolt.Tx, name string) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketProjects)
	if root == nil {
		return nil, NotFoundf("project %q not found", name)
	}
	pb := root.Bucket([]byte(name))
	if pb == nil {
		return nil, NotFoundf("project %q not found", name)
	}
	return pb, nil
}

func readProject(pb *bolt.Bucket, name string) (*Project, error) {
	meta := pb.Bucket(bucketMeta)
	p := &Project{Name: name, UUID: string(meta.Get(keyUUID)), LabelConfig: string(meta.Get(keyLabelConfig)),
		ConfigRevision: int64(getU64(meta.Get(keyConfigRevision)))}
	if err := json.Unmarshal(meta.Get(keySettings), &p.Settings); err != nil {
		return nil, fmt.Errorf("project %q: read settings: %w", name, err)
	}
	if err := json.Unmarshal(pb.Get(keyCounters), &p.Counters); err != nil {
		return nil, fmt.Errorf("project %q: read counters: %w", name, err)
	}
	return p, nil
}

// ProjectInfo is one line of the project list.
type ProjectInfo struct {
	Name        string
	UUID        string
	Description string
	Tasks       int64
}

// Projects lists every project, sorted by name.
func (s *Store) Projects() ([]ProjectInfo, error) {
	var out []ProjectInfo
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketProjects)
		return root.ForEachBucket(func(k []byte) error {
			p, err := readProject(root.Bucket(k), string(k))
			if err != nil {
				return err
			}
			out = append(out, ProjectInfo{Name: p.Name, UUID: p.UUID, Description: p.Settings.Description, Tasks: p.Counters.Tasks})
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// ProjectByUUID returns the name of the project with the given uuid.
func (s *Store) ProjectByUUID(uuid string) (string, error) {
	var name string
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketProjects)
		return root.ForEachBucket(func(k []byte) error {
			if string(root.Bucket(k).Bucket(bucketMeta).Get(keyUUID)) == uuid {
				name = string(k)
			}
			return nil
		})
	})
	if err == nil && name == "" {
		err = NotFoundf("no project with uuid %q", uuid)
	}
	return name, err
}

// DeleteProject removes a project with all its tasks and completions.
func (s *Store) DeleteProject(name string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if _, err := projectBucket(tx, name); err != nil {
			return err
		}
		return tx.Bucket(bucketProjects).DeleteBucket([]byte(name))
	})
}

// UpdateSettings changes a project's settings with fn in one transaction
// and returns the updated project.
func (s *Store) UpdateSettings(name string, fn func(*Settings) error) (*Project, error) {
	var p *Project
	err := s.update(name, func(t *ptx) error {
		var err error
		p, err = readProject(t.b, name)
		if err != nil {
			return err
		}
		if err := fn(&p.Settings); err != nil {
			return err
		}
		if !ValidSampling(p.Settings.Sampling) {
			return Invalidf("unknown sampling %q", p.Settings.Sampling)
		}
		sj, err := json.Marshal(p.Settings)
		if err != nil {
			return fmt.Errorf("encode settings: %w", err)
		}
		return t.b.Bucket(bucketMeta).Put(keySettings, sj)
	})
	return p, err
}

// keyMLState holds the ML backends' state of a project (train job ids...).
var keyMLState = []byte("ml_state")

// MLState returns the stored ML backend state of a project (a JSON
// document the ML client owns), or nil.
func (s *Store) MLState(project string) (json.RawMessage, error) {
	var out json.RawMessage
	err := s.view(project, func(t *ptx) error {
		if v := t.bk(bucketMeta).Get(keyMLState); v != nil {
			out = append(json.RawMessage(nil), v...)
		}
		return nil
	})
	return out, err
}

// SetMLState stores the ML backend state of a project; it must be JSON.
func (s *Store) SetMLState(project string, state json.RawMessage) error {
	if !json.Valid(state) {
		return Invalidf("ML state must be JSON")
	}
	return s.update(project, func(t *ptx) error {
		return t.bk(bucketMeta).Put(keyMLState, append([]byte(nil), state...))
	})
}

// Facts are what a labeling-config change is checked against: the data keys
// every task has, and the (from_name, to_name, type) triples and labels that
// stored completions use.
type Facts struct {
	Tasks            int64
	Completions      int64
	CommonDataKeys   []string
	Triples          []Triple
	LabelsByFromName map[string][]string
}

// Triple is a (from_name, to_name, type) combination used by results.
type Triple struct {
	FromName, ToName, Type string
	Count                  int64
}

// SetLabelConfig replaces a project's labeling config. check runs inside the
// write transaction with the project's current facts and may refuse the
// change by returning an error; nothing is written then. The settings' flag
// label_config_updated is set.
func (s *Store) SetLabelConfig(name, text string, check func(Facts) error) error {
	return s.SetLabelConfigAt(name, text, -1, check)
}

// ConfigConflict is the error of a config save based on an older revision.
type ConfigConflict struct {
	Revision int64
	Current  string
}

func (e *ConfigConflict) Error() string {
	return fmt.Sprintf("the labeling config was saved meanwhile (it is at revision %d): reload it and apply your change again", e.Revision)
}

// Unwrap makes a ConfigConflict an ErrConflict.
func (e *ConfigConflict) Unwrap() error { return ErrConflict }

// SetLabelConfigAt is SetLabelConfig for an editor that loaded revision
// base of the config: when somebody saved it since, the save is refused
// with a *ConfigConflict. A negative base skips the check.
func (s *Store) SetLabelConfigAt(name, text string, base int64, check func(Facts) error) error {
	return s.update(name, func(t *ptx) error {
		meta := t.b.Bucket(bucketMeta)
		rev := int64(getU64(meta.Get(keyConfigRevision)))
		if base >= 0 && base != rev {
			return &ConfigConflict{Revision: rev, Current: string(meta.Get(keyLabelConfig))}
		}
		if err := meta.Put(keyConfigRevision, u64(uint64(rev+1))); err != nil {
			return err
		}
		if check != nil {
			if err := check(t.facts()); err != nil {
				return err
			}
		}
		if err := meta.Put(keyLabelConfig, []byte(text)); err != nil {
			return err
		}
		p, err := readProject(t.b, name)
		if err != nil {
			return err
		}
		p.Settings.LabelConfigUpdated = true
		sj, err := json.Marshal(p.Settings)
		if err != nil {
			return err
		}
		return meta.Put(keySettings, sj)
	})
}

// Facts returns the facts a config change is checked against.
func (s *Store) Facts(name string) (Facts, error) {
	var f Facts
	err := s.view(name, func(t *ptx) error {
		f = t.facts()
		return nil
	})
	return f, err
}

// TasksUsing returns up to limit ids of tasks whose completions use the given
// control name (fromName) with, if non-empty, the given label, and how many
// completions do. It walks the completions and is meant for error reports.
func (s *Store) TasksUsing(name, fromName, label string, limit int) (ids []int64, completions int64, err error) {
	err = s.view(name, func(t *ptx) error {
		c := t.bk(bucketCompletions).Cursor()
		last := int64(-1)
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) == 8 || !resultUses(v, fromName, label) { // 8 bytes: a task's summary
				continue
			}
			completions++
			id := keyID(k)
			if id != last && len(ids) < limit {
				ids = append(ids, id)
			}
			last = id
		}
		return nil
	})
	return ids, completions, err
}

// NewUUID returns a random (version 4) UUID.
func NewUUID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rand.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// UploadFolder is the name of a project's folder under the upload root:
// the project name with path separators escaped (multi-session names hold
// '/'), and a leading dot escaped, so that no project name can make a
// hidden folder or "." / "..". The server serves uploads from it and
// migrations copy into it.
func UploadFolder(project string) string {
	n := url.PathEscape(project)
	if strings.HasPrefix(n, ".") || n == "" {
		n = "%2E" + strings.TrimPrefix(n, ".")
	}
	return n
}
