package cloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"labelstudio/server/importer"
	"labelstudio/store"
)

// Limits of a sync.
const (
	// SyncInterval is how often serving tasks refreshes a cloud source
	// (0.8.1: at most every 30 s).
	SyncInterval = 30 * time.Second
	// MaxTaskObject is the largest object read as a JSON task.
	MaxTaskObject = 16 << 20
	// syncChunk is how many new tasks one store transaction imports.
	syncChunk = 1000
	// fetchWorkers is how many JSON task objects are read at once.
	fetchWorkers = 8
	// maxReportedErrors caps the object errors a status lists.
	maxReportedErrors = 20
	// maxPending caps the task ids whose target write is remembered for
	// a retry.
	maxPending = 100_000
	// syncTimeout bounds one sync.
	syncTimeout = 2 * time.Hour
	// bucketTTL is how long a bucket client (with the credentials it
	// read) is reused.
	bucketTTL = 5 * time.Minute
	// signTimeout bounds what signing a URI may ask the cloud (an S3
	// bucket's region), so that serving a task never hangs on it.
	signTimeout = 10 * time.Second
)

// TaskMaker turns one bucket object into a task to import: uri is the
// object's URI; body is its content when the storage reads objects as JSON
// tasks, nil for blob-URL storages. An error skips the object (it is
// tried again at the next sync).
type TaskMaker func(uri string, body []byte) (store.NewTask, error)

// SourceStatus is the state of a project's cloud source sync.
type SourceStatus struct {
	Type    string `json:"type"`
	Path    string `json:"path"`
	Syncing bool   `json:"syncing"`
	// LastStarted and LastFinished are the times of the last sync.
	LastStarted  *time.Time `json:"last_sync_started,omitempty"`
	LastFinished *time.Time `json:"last_sync_finished,omitempty"`
	// Listed counts the objects the (last or running) sync listed,
	// Matched those the regex kept, Known those imported before,
	// Imported the new tasks, Failed the objects that could not become
	// tasks.
	Listed   int `json:"listed"`
	Matched  int `json:"matched"`
	Known    int `json:"known"`
	Imported int `json:"imported"`
	Failed   int `json:"failed"`
	// ObjectErrors are the first few reasons of Failed.
	ObjectErrors []string `json:"object_errors,omitempty"`
	// Error is why the last sync stopped, empty when it succeeded.
	Error string `json:"error,omitempty"`
}

// TargetStatus is the state of a project's cloud target.
type TargetStatus struct {
	Type string `json:"type"`
	Path string `json:"path"`
	// Syncing is true while a full rewrite of the records runs.
	Syncing bool `json:"syncing"`
	// Written counts the records written since the server started.
	Written int `json:"written"`
	// Pending are the tasks whose record could not be written yet; they
	// are retried at the next write.
	Pending []int64 `json:"pending"`
	// LastWrite is the time of the last successful write.
	LastWrite *time.Time `json:"last_write,omitempty"`
	// Error is the last failure, cleared by the next success.
	Error string `json:"error,omitempty"`
}

// projectState is what the manager knows of one project.
type projectState struct {
	source  SourceStatus
	running chan struct{} // closed when the running sync ends; nil when idle
	cancel  context.CancelFunc
	lastRun time.Time
	lastErr error

	// known are the object URIs that are tasks already, valid while the
	// project holds knownTasks tasks.
	known      map[string]bool
	knownTasks int64

	target       TargetStatus
	pending      map[int64]bool
	targetSyncOn bool
	// stripes order the writes of one task's record: the record is read
	// and put under its stripe, so an older record never overwrites a
	// newer one.
	stripes [64]sync.Mutex
}

type bucketEntry struct {
	b    Bucket
	err  error
	made time.Time
}

// Manager keeps the cloud state of a server's projects: running syncs and
// their progress, target writes to retry, and bucket clients.
type Manager struct {
	st   *store.Store
	opts Options
	log  *slog.Logger

	mu       sync.Mutex
	projects map[string]*projectState
	buckets  map[Config]bucketEntry
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// NewManager returns a manager over a store.
func NewManager(st *store.Store, o Options, log *slog.Logger) *Manager {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{st: st, opts: o, log: log, projects: map[string]*projectState{}, buckets: map[Config]bucketEntry{}, ctx: ctx, cancel: cancel}
}

// Close stops running syncs and waits for them.
func (m *Manager) Close() {
	m.cancel()
	m.wg.Wait()
}

// Wait waits for the project's running sync, if any.
func (m *Manager) Wait(project string) {
	m.mu.Lock()
	ch := m.state(project).running
	m.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

// state returns a project's state; m.mu must be held.
func (m *Manager) state(project string) *projectState {
	ps := m.projects[project]
	if ps == nil {
		ps = &projectState{pending: map[int64]bool{}}
		m.projects[project] = ps
	}
	return ps
}

// Bucket returns a client of a storage's bucket, reusing one made in the
// last few minutes with the same config.
func (m *Manager) Bucket(c Config) (Bucket, error) {
	key := c
	key.Prefix, key.Regex, key.DataKey, key.UseBlobURLs, key.CreateLocalCopy = "", "", "", false, false
	key.Type = Scheme(c.Type)
	now := m.opts.now()
	m.mu.Lock()
	e, ok := m.buckets[key]
	m.mu.Unlock()
	if ok && now.Sub(e.made) < bucketTTL {
		return e.b, e.err
	}
	b, err := Open(c, m.opts)
	m.mu.Lock()
	if len(m.buckets) > 1000 {
		m.buckets = map[Config]bucketEntry{}
	}
	m.buckets[key] = bucketEntry{b: b, err: err, made: now}
	m.mu.Unlock()
	return b, err
}

// Forget drops a project's state and the cached clients after its
// storages changed: a running sync of the old source is stopped and
// waited for.
func (m *Manager) Forget(project string) {
	m.mu.Lock()
	ps := m.projects[project]
	var done chan struct{}
	if ps != nil && ps.running != nil {
		done = ps.running
		ps.cancel()
	}
	m.buckets = map[Config]bucketEntry{}
	m.mu.Unlock()
	if done != nil {
		<-done
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if ps := m.projects[project]; ps != nil {
		if ps.running == nil && !ps.targetSyncOn {
			delete(m.projects, project)
		} else {
			ps.source, ps.target, ps.pending = SourceStatus{}, TargetStatus{}, map[int64]bool{}
		}
	}
}

// Syncing reports whether a source sync of the project is running.
func (m *Manager) Syncing(project string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := m.projects[project]
	return ps != nil && ps.running != nil
}

// TargetSyncing reports whether a full target rewrite is running.
func (m *Manager) TargetSyncing(project string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := m.projects[project]
	return ps != nil && ps.targetSyncOn
}

// Status returns copies of a project's source and target states.
func (m *Manager) Status(project string) (SourceStatus, TargetStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := m.state(project)
	src := ps.source
	src.Syncing = ps.running != nil
	src.ObjectErrors = append([]string(nil), src.ObjectErrors...)
	tg := ps.target
	tg.Syncing = ps.targetSyncOn
	tg.Pending = make([]int64, 0, len(ps.pending))
	for id := range ps.pending {
		tg.Pending = append(tg.Pending, id)
	}
	sort.Slice(tg.Pending, func(i, j int) bool { return tg.Pending[i] < tg.Pending[j] })
	return src, tg
}

// StartSync starts a sync of the project's cloud source in the background,
// unless one is running. It returns a channel closed when that sync ends.
func (m *Manager) StartSync(project string, ref store.StorageRef, mk TaskMaker) <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := m.state(project)
	if ps.running != nil {
		return ps.running
	}
	done := make(chan struct{})
	ps.running = done
	ps.lastRun = m.opts.now()
	t := ps.lastRun
	ps.source = SourceStatus{Type: ref.Type, LastStarted: &t, LastFinished: ps.source.LastFinished}
	ctx, cancel := context.WithTimeout(m.ctx, syncTimeout)
	ps.cancel = cancel
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer cancel()
		err := m.runSync(ctx, project, ref, mk)
		if err != nil {
			m.log.Warn("cloud source sync failed", "project", project, "err", err)
		}
		m.mu.Lock()
		now := m.opts.now()
		ps.source.LastFinished = &now
		ps.lastErr = err
		if err != nil {
			ps.source.Error = err.Error()
		}
		ps.running = nil
		m.mu.Unlock()
		close(done)
	}()
	return done
}

// Sync runs a sync of the project's cloud source (or joins the running one)
// and waits for it, or for ctx. It returns the sync's status and error.
func (m *Manager) Sync(ctx context.Context, project string, ref store.StorageRef, mk TaskMaker) (SourceStatus, error) {
	done := m.StartSync(project, ref, mk)
	select {
	case <-done:
	case <-ctx.Done():
		src, _ := m.Status(project)
		return src, ctx.Err()
	}
	m.mu.Lock()
	err := m.state(project).lastErr
	m.mu.Unlock()
	src, _ := m.Status(project)
	return src, err
}

// SyncDue reports whether the project's source is due for a sync: none is
// running and none started in the last SyncInterval.
func (m *Manager) SyncDue(project string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := m.state(project)
	return ps.running == nil && m.opts.now().Sub(ps.lastRun) >= SyncInterval
}

// update changes the project's source status under the lock.
func (m *Manager) update(project string, fn func(*SourceStatus)) {
	m.mu.Lock()
	fn(&m.state(project).source)
	m.mu.Unlock()
}

// objectError counts an object that could not become a task.
func (m *Manager) objectError(project, msg string) {
	m.update(project, func(s *SourceStatus) {
		s.Failed++
		if len(s.ObjectErrors) < maxReportedErrors {
			s.ObjectErrors = append(s.ObjectErrors, msg)
		}
	})
}

// runSync lists the bucket and imports the objects that are not tasks yet.
func (m *Manager) runSync(ctx context.Context, project string, ref store.StorageRef, mk TaskMaker) error {
	cfg, err := ConfigOf(ref)
	if err != nil {
		return err
	}
	if !IsSource(cfg.Type) {
		return fmt.Errorf("%s is not a source storage type", cfg.Type)
	}
	m.update(project, func(s *SourceStatus) { s.Path = cfg.ReadablePath() })
	re, err := CompileRegex(cfg.Regex)
	if err != nil {
		return fmt.Errorf("regex %q: %w", cfg.Regex, err)
	}
	b, err := m.Bucket(cfg)
	if err != nil {
		return err
	}
	known, err := m.knownURIs(project)
	if err != nil {
		return err
	}
	var batch []Object
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := m.importObjects(ctx, project, cfg, b, batch, mk, known)
		batch = batch[:0]
		return err
	}
	err = b.List(ctx, cfg.Prefix, func(o Object) error {
		m.update(project, func(s *SourceStatus) { s.Listed++ })
		if re == nil || !re.MatchString(o.Key) {
			return nil
		}
		uri := URI(cfg.Type, cfg.Bucket, o.Key)
		if known[uri] {
			m.update(project, func(s *SourceStatus) { s.Matched++; s.Known++ })
			return nil
		}
		m.update(project, func(s *SourceStatus) { s.Matched++ })
		if !safeKey(o.Key) {
			m.objectError(project, uri+": the key has control characters or is not UTF-8")
			return nil
		}
		batch = append(batch, o)
		if len(batch) >= syncChunk {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// safeKey reports whether an object key can be stored as a task_path.
func safeKey(k string) bool {
	if !utf8.ValidString(k) {
		return false
	}
	for _, r := range k {
		if r < 0x20 || r == 0x7f || !strconv.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// importObjects makes tasks of new objects and imports them in one
// transaction, each with its object URI as task_path.
func (m *Manager) importObjects(ctx context.Context, project string, cfg Config, b Bucket, objs []Object, mk TaskMaker, known map[string]bool) error {
	bodies := make([][]byte, len(objs))
	errs := make([]error, len(objs))
	if !cfg.UseBlobURLs {
		var wg sync.WaitGroup
		next := make(chan int)
		for w := 0; w < min(fetchWorkers, len(objs)); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					bodies[i], errs[i] = b.Get(ctx, objs[i].Key, MaxTaskObject)
				}
			}()
		}
		for i := range objs {
			next <- i
		}
		close(next)
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		// A bucket that fails every read (gone, credentials revoked)
		// stops the sync instead of reporting each object.
		failed := 0
		for _, e := range errs {
			if e != nil {
				failed++
			}
		}
		if failed == len(objs) && (IsAuth(errs[0]) || IsNotFound(errs[0]) && len(objs) > 1) {
			return errs[0]
		}
	}
	tasks := make([]store.NewTask, 0, len(objs))
	uris := make([]string, 0, len(objs))
	for i, o := range objs {
		uri := URI(cfg.Type, cfg.Bucket, o.Key)
		if errs[i] != nil {
			m.objectError(project, errs[i].Error())
			continue
		}
		nt, err := mk(uri, bodies[i])
		if err != nil {
			m.objectError(project, uri+": "+err.Error())
			continue
		}
		nt.TaskPath = uri
		tasks = append(tasks, nt)
		uris = append(uris, uri)
	}
	if len(tasks) == 0 {
		return nil
	}
	res, err := m.st.ImportTasks(project, tasks, store.ImportOptions{})
	if err != nil {
		return fmt.Errorf("importing %d tasks from %s: %w", len(tasks), cfg.ReadablePath(), err)
	}
	m.mu.Lock()
	ps := m.state(project)
	for _, u := range uris {
		known[u] = true
	}
	ps.knownTasks += int64(res.Stored)
	ps.source.Imported += res.Stored
	m.mu.Unlock()
	return nil
}

// knownURIs returns the object URIs that are tasks of the project (their
// task_path), from the cache when the project's task count did not change
// since it was built.
func (m *Manager) knownURIs(project string) (map[string]bool, error) {
	p, err := m.st.Project(project)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	ps := m.state(project)
	if ps.known != nil && ps.knownTasks == p.Counters.Tasks {
		k := ps.known
		m.mu.Unlock()
		return k, nil
	}
	m.mu.Unlock()
	known := map[string]bool{}
	marker := []byte(`"task_path":`)
	var n int64
	err = m.st.EachTask(project, false, func(t store.Task) error {
		n++
		if !bytes.Contains(t.Raw, marker) {
			return nil
		}
		var probe struct {
			TaskPath string `json:"task_path"`
		}
		if json.Unmarshal(t.Raw, &probe) == nil && (strings.HasPrefix(probe.TaskPath, "s3://") || strings.HasPrefix(probe.TaskPath, "gs://")) {
			known[probe.TaskPath] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the tasks of %s: %w", project, err)
	}
	m.mu.Lock()
	ps.known, ps.knownTasks = known, n
	m.mu.Unlock()
	return known, nil
}

// Record is a task's completions record as a target stores it (api.md
// §1.4): the task without predictions, with its completions.
func Record(t store.Task) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(t.Raw, &obj); err != nil {
		return nil, fmt.Errorf("task %d: %w", t.ID, err)
	}
	delete(obj, "predictions")
	var list bytes.Buffer
	list.WriteByte('[')
	for i, c := range t.Completions {
		if i > 0 {
			list.WriteByte(',')
		}
		list.Write(bytes.TrimSpace(c.Raw))
	}
	list.WriteByte(']')
	obj["completions"] = list.Bytes()
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out bytes.Buffer
	out.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(importer.AppendJSONString(nil, k))
		out.WriteByte(':')
		out.Write(bytes.TrimSpace(obj[k]))
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// WriteTarget writes the completions record of a task to the project's
// cloud target, and retries the records whose write failed before. A
// failure is remembered (the task stays pending) and returned; the store
// keeps the completion either way.
func (m *Manager) WriteTarget(ctx context.Context, project string, ref store.StorageRef, taskID int64) error {
	m.mu.Lock()
	ps := m.state(project)
	ps.target.Type = ref.Type
	ids := []int64{taskID}
	for id := range ps.pending {
		if id != taskID && len(ids) < 100 {
			ids = append(ids, id)
		}
	}
	m.mu.Unlock()
	cfg, err := ConfigOf(ref)
	if err == nil {
		m.mu.Lock()
		ps.target.Path = cfg.ReadablePath()
		m.mu.Unlock()
	}
	var b Bucket
	if err == nil {
		b, err = m.Bucket(cfg)
	}
	if err != nil {
		m.targetFailed(ps, ids, err)
		return err
	}
	for i, id := range ids {
		if err := m.writeRecord(ctx, project, cfg, b, id); err != nil {
			m.targetFailed(ps, ids[i:], err)
			return err
		}
	}
	return nil
}

// writeRecord writes one task's record, or nothing when the task is gone.
func (m *Manager) writeRecord(ctx context.Context, project string, cfg Config, b Bucket, id int64) error {
	m.mu.Lock()
	stripe := &m.state(project).stripes[uint64(id)%64]
	m.mu.Unlock()
	stripe.Lock()
	defer stripe.Unlock()
	t, err := m.st.Task(project, id)
	if errors.Is(err, store.ErrNotFound) {
		m.mu.Lock()
		delete(m.state(project).pending, id)
		m.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	rec, err := Record(t)
	if err != nil {
		return err
	}
	if err := b.Put(ctx, cfg.TargetKey(id), rec, "application/json"); err != nil {
		return err
	}
	m.mu.Lock()
	ps := m.state(project)
	delete(ps.pending, id)
	ps.target.Written++
	ps.target.Error = ""
	now := m.opts.now()
	ps.target.LastWrite = &now
	m.mu.Unlock()
	return nil
}

func (m *Manager) targetFailed(ps *projectState, ids []int64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		if len(ps.pending) < maxPending {
			ps.pending[id] = true
		}
	}
	ps.target.Error = err.Error()
}

// SyncTarget writes the record of every completed task to the project's
// cloud target (a full rewrite, e.g. after connecting a bucket that should
// hold earlier work too).
func (m *Manager) SyncTarget(ctx context.Context, project string, ref store.StorageRef) (TargetStatus, error) {
	cfg, err := ConfigOf(ref)
	if err != nil {
		return TargetStatus{}, err
	}
	b, err := m.Bucket(cfg)
	if err != nil {
		return TargetStatus{}, err
	}
	m.mu.Lock()
	ps := m.state(project)
	if ps.targetSyncOn {
		m.mu.Unlock()
		return TargetStatus{}, errors.New("a target sync of this project is running already")
	}
	ps.targetSyncOn = true
	ps.target.Type, ps.target.Path = cfg.Type, cfg.ReadablePath()
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		ps.targetSyncOn = false
		m.mu.Unlock()
	}()
	ids, err := m.st.CompletedTaskIDs(project)
	if err != nil {
		return TargetStatus{}, err
	}
	var (
		wg    sync.WaitGroup
		next  = make(chan int64)
		errMu sync.Mutex
		first error
	)
	for w := 0; w < fetchWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				if err := m.writeRecord(ctx, project, cfg, b, id); err != nil {
					m.targetFailed(ps, []int64{id}, err)
					errMu.Lock()
					if first == nil {
						first = err
					}
					errMu.Unlock()
				}
			}
		}()
	}
	for _, id := range ids {
		errMu.Lock()
		stop := first != nil && (IsAuth(first) || IsNotFound(first))
		errMu.Unlock()
		if stop || ctx.Err() != nil {
			break
		}
		next <- id
	}
	close(next)
	wg.Wait()
	m.mu.Lock()
	ps.targetSyncOn = false
	m.mu.Unlock()
	_, tg := m.Status(project)
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	return tg, first
}

// Resolve replaces s3:// and gs:// URIs among the top-level strings of the
// data of a served task (a JSON object), or of each task of a list (a JSON
// array), with presigned URLs (api.md §5.4). source is the project's
// source storage: an S3 source lends its credentials, region and endpoint
// to s3:// URIs, a GCS source its endpoint to gs:// URIs. A URI that cannot
// be signed stays as it is; so does anything that is not a task.
func (m *Manager) Resolve(source store.StorageRef, body []byte) []byte {
	if !bytes.Contains(body, []byte(`s3://`)) && !bytes.Contains(body, []byte(`gs://`)) {
		return body
	}
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return body
	}
	switch t[0] {
	case '{':
		return m.resolveTask(source, body)
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(t, &items) != nil {
			return body
		}
		out := make([]byte, 0, len(body)+len(items)*256)
		out = append(out, '[')
		for i, it := range items {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, m.resolveTask(source, it)...)
		}
		return append(out, ']')
	}
	return body
}

// resolveTask rewrites the data member of one task object.
func (m *Manager) resolveTask(source store.StorageRef, obj []byte) []byte {
	if !bytes.Contains(obj, []byte(`s3://`)) && !bytes.Contains(obj, []byte(`gs://`)) {
		return obj
	}
	out, _ := rewriteMembers(obj, func(rawKey, v []byte) ([]byte, bool) {
		if k, _ := importer.UnquoteKey(rawKey); k == "data" && len(v) > 0 && v[0] == '{' {
			return m.resolveData(source, v)
		}
		return nil, false
	})
	return out
}

// resolveData signs the top-level URI strings of a data object.
func (m *Manager) resolveData(source store.StorageRef, data []byte) ([]byte, bool) {
	return rewriteMembers(data, func(_, v []byte) ([]byte, bool) {
		if len(v) > 6 && v[0] == '"' && (bytes.HasPrefix(v[1:], []byte("s3://")) || bytes.HasPrefix(v[1:], []byte("gs://"))) {
			var s string
			if json.Unmarshal(v, &s) == nil {
				if signed, ok := m.Sign(source, s); ok {
					return importer.AppendJSONString(nil, signed), true
				}
			}
		}
		return nil, false
	})
}

// rewriteMembers writes a JSON object again with the values fn replaces
// (fn answers the new value and true, or false to keep it). It returns
// obj itself and false when nothing was replaced or obj does not parse.
func rewriteMembers(obj []byte, fn func(rawKey, v []byte) ([]byte, bool)) ([]byte, bool) {
	changed := false
	out := make([]byte, 0, len(obj)+512)
	out = append(out, '{')
	err := importer.ObjectMembers(obj, func(rawKey, v []byte) error {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, rawKey...)
		out = append(out, ':')
		if nv, ok := fn(rawKey, v); ok {
			changed = true
			v = nv
		}
		out = append(out, v...)
		return nil
	})
	if err != nil || !changed {
		return obj, false
	}
	return append(out, '}'), true
}

// Sign presigns one s3:// or gs:// URI; ok is false when it cannot.
func (m *Manager) Sign(source store.StorageRef, uri string) (string, bool) {
	scheme, bucket, key, ok := ParseURI(uri)
	if !ok {
		return "", false
	}
	cfg := Config{Type: TypeS3, Bucket: bucket}
	if scheme == "gs" {
		cfg.Type = TypeGCS
	}
	if IsCloud(source.Type) && Scheme(source.Type) == scheme {
		if sc, err := ConfigOf(source); err == nil {
			cfg.Region, cfg.Endpoint = sc.Region, sc.Endpoint
			cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken = sc.AccessKeyID, sc.SecretAccessKey, sc.SessionToken
		}
	}
	b, err := m.Bucket(cfg)
	if err != nil {
		return "", false
	}
	expiry := DefaultPresignExpiry
	if scheme == "gs" {
		expiry = GCSSignedURLExpiry
	}
	ctx, cancel := context.WithTimeout(m.ctx, signTimeout)
	defer cancel()
	u, err := b.SignGet(ctx, key, expiry)
	if err != nil {
		return "", false
	}
	return u, true
}
