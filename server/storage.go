package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/server/cloud"
	"labelstudio/store"
)

// Storages (spec storage.md): the storage-settings API, cloud source syncs,
// URI resolution of served tasks and completion copies to cloud targets.
//
// The local pair tasks-json / completions-dir is the project's own store.
// A cloud source is synced into the store: each bucket object becomes a
// task whose task_path is the object's URI. A cloud target receives a copy
// of each completions record; the store keeps the original.
//
// Beyond 0.8.1 the API has:
//   - GET  /api/project/storage-settings/status: progress of the source
//     sync and the state of the target (records pending a retry, last
//     error);
//   - POST /api/project/storage-settings/sync?storage_for=source|target
//     [&wait=1]: sync the source now, or write every completions record
//     to the target; with wait=1 the answer comes when it is done (what
//     the cloud refuses, such as a missing bucket or bad credentials: 400;
//     a cloud out of reach: 502; both naming the bucket and giving the
//     cloud's message).

// Timeouts of cloud calls made while a request waits.
const (
	storageCheckTimeout = 30 * time.Second
	targetWriteTimeout  = 10 * time.Second
	syncWaitTimeout     = 10 * time.Minute
	refsTTL             = 2 * time.Second
)

// storageState is the server's cloud state, kept in Options.storages.
type storageState struct {
	m *cloud.Manager

	mu   sync.Mutex
	refs map[string]cachedRefs
}

// cachedRefs are a project's storages, read at most every refsTTL.
type cachedRefs struct {
	source, target store.StorageRef
	at             time.Time
}

// storageRoutes registers the storage-settings endpoints and sets up the
// cloud state.
func (s *Server) storageRoutes() {
	s.opts.storages = &storageState{m: cloud.NewManager(s.st, s.opts.Cloud, s.log), refs: map[string]cachedRefs{}}
	a := s.app
	a.Get("/api/project/storage-settings", s.getStorageSettings)
	a.Post("/api/project/storage-settings", s.postStorageSettings)
	a.Get("/api/project/storage-settings/status", s.storageStatus)
	a.Post("/api/project/storage-settings/sync", s.storageSync)
}

// cloudManager returns the cloud manager (set up by storageRoutes).
func (s *Server) cloudManager() *cloud.Manager { return s.opts.storages.m }

// storageRefs returns a project's source and target storages, cached for a
// moment so that serving tasks does not read the settings every time.
func (s *Server) storageRefs(project string) (store.StorageRef, store.StorageRef, error) {
	ss := s.opts.storages
	now := time.Now()
	ss.mu.Lock()
	r, ok := ss.refs[project]
	ss.mu.Unlock()
	if ok && now.Sub(r.at) < refsTTL {
		return r.source, r.target, nil
	}
	p, err := s.st.Project(project)
	if err != nil {
		return store.StorageRef{}, store.StorageRef{}, err
	}
	ss.mu.Lock()
	if len(ss.refs) > 10000 {
		ss.refs = map[string]cachedRefs{}
	}
	ss.refs[project] = cachedRefs{source: p.Settings.Source, target: p.Settings.Target, at: now}
	ss.mu.Unlock()
	return p.Settings.Source, p.Settings.Target, nil
}

func (s *Server) forgetRefs(project string) {
	ss := s.opts.storages
	ss.mu.Lock()
	delete(ss.refs, project)
	ss.mu.Unlock()
	ss.m.Forget(project)
}

// resolveURIs is the hook for served tasks (a task object or a list of
// them): s3:// and gs:// URIs among the top-level strings of their data
// become presigned URLs (api.md §5.4). With a cloud source it also starts a
// sync when none ran in the last 30 s, as 0.8.1 does on task listings.
func (s *Server) resolveURIs(c *fiber.Ctx, body []byte) []byte {
	project := s.projectName(c)
	source, _, err := s.storageRefs(project)
	if err != nil {
		return body
	}
	m := s.cloudManager()
	if cloud.IsSource(source.Type) && m.SyncDue(project) {
		if p, err := s.st.Project(project); err == nil && cloud.IsSource(p.Settings.Source.Type) {
			m.StartSync(project, p.Settings.Source, s.taskMaker(p))
		}
	}
	return m.Resolve(source, body)
}

// completionChanged is the hook after a completion of a task was saved,
// updated or deleted: with a cloud target the task's completions record
// is written there. A failure is logged, shown in the X-Cloud-Target-Error
// header and in the storage status, and retried at the next write; the
// completion itself is saved either way.
func (s *Server) completionChanged(c *fiber.Ctx, taskID int64) {
	project := s.projectName(c)
	_, target, err := s.storageRefs(project)
	if err != nil || !cloud.IsTarget(target.Type) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), targetWriteTimeout)
	defer cancel()
	if err := s.cloudManager().WriteTarget(ctx, project, target, taskID); err != nil {
		s.log.Warn("cloud target write failed; the completion is saved locally and the write will be retried",
			"project", project, "task", taskID, "err", err)
		c.Set("X-Cloud-Target-Error", headerSafe(err.Error()))
	}
}

// headerSafe makes a message fit in one header line.
func headerSafe(msg string) string {
	msg = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return ' '
		}
		return r
	}, msg)
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

// sourceSyncing reports whether the project's cloud source is syncing.
func (s *Server) sourceSyncing(project string) bool { return s.cloudManager().Syncing(project) }

// targetSyncing reports whether all records are being written to the
// project's cloud target.
func (s *Server) targetSyncing(project string) bool {
	return s.cloudManager().TargetSyncing(project)
}

// maxTaskErrors bounds the reasons a refused object reports.
const maxTaskErrors = 3

// taskMaker turns bucket objects into tasks for the project's config: an
// object URI under the storage's data key (blob URLs), or an object read
// as one JSON task, validated like an import item.
func (s *Server) taskMaker(p *store.Project) cloud.TaskMaker {
	cfg := s.parsedConfig(p)
	firstKey := ""
	if cfg != nil {
		firstKey = cfg.FirstDataKey()
	}
	dataKey := firstKey
	if c, err := cloud.ConfigOf(p.Settings.Source); err == nil && c.DataKey != "" {
		dataKey = c.DataKey
	}
	return func(uri string, body []byte) (store.NewTask, error) {
		var raw []byte
		if body == nil {
			if dataKey == "" {
				return store.NewTask{}, errors.New("no data key: set data_key or give the labeling config an object tag")
			}
			b, err := json.Marshal(map[string]map[string]string{"data": {dataKey: uri}})
			if err != nil {
				return store.NewTask{}, err
			}
			raw = b
		} else {
			t := bytes.TrimSpace(body)
			if len(t) > 0 && t[0] == '[' {
				var list []json.RawMessage
				if err := json.Unmarshal(t, &list); err != nil {
					return store.NewTask{}, fmt.Errorf("not valid JSON: %w", err)
				}
				if len(list) != 1 {
					return store.NewTask{}, errors.New("Cloud storages support one task per one JSON file only. Task must be {} or [{}] with length = 1")
				}
				t = bytes.TrimSpace(list[0])
			}
			if !json.Valid(t) {
				return store.NewTask{}, errors.New("not valid JSON")
			}
			raw = t
		}
		nt, _, reasons := prepareTask(raw, cfg, firstKey)
		if len(reasons) > 0 {
			if len(reasons) > maxTaskErrors {
				reasons = reasons[:maxTaskErrors]
			}
			return store.NewTask{}, errors.New(strings.Join(reasons, "; "))
		}
		return nt, nil
	}
}

// ---- storage-settings forms -------------------------------------------

// storageField is one field of a storage form (storage.md §3.1).
type storageField struct {
	name string
	// boolean fields are checkboxes (BooleanField), others StringField.
	boolean bool
	// def is the default (nil: none).
	def  any
	desc string
}

const useBlobURLsDescription = `Generate tasks with a URL of each bucket object under the data key ` +
	`(for media files: images, audio, HTML...; the labeling config then has <b>one data key</b>). ` +
	`If unchecked, each bucket object is read as <b>one JSON task</b> (tasks may then have several data keys).`

// storageForms lists the registered storage types of each role in the
// order 0.8.1 sorts them (by description), with their fields.
var storageForms = map[string][]struct {
	typ, desc string
	fields    []storageField
}{
	"source": {
		{"s3", "Amazon S3", []storageField{
			{name: "path", desc: "Storage path (e.g. bucket name)"},
			{name: "prefix", desc: "File prefix"},
			{name: "regex", desc: "File filter by regex, example: .* (If not specified, all files will be skipped)"},
			{name: "data_key", desc: "Task tag key from your label config"},
			{name: "use_blob_urls", boolean: true, def: true, desc: useBlobURLsDescription},
			{name: "region", def: cloud.DefaultRegion, desc: "AWS region name for S3 bucket"},
		}},
		{"gcs", "Google Cloud Storage", []storageField{
			{name: "path", desc: "Storage path (e.g. bucket name)"},
			{name: "prefix", desc: "File prefix"},
			{name: "regex", desc: "File filter by regex, example: .* (If not specified, all files will be skipped)"},
			{name: "data_key", desc: "Task tag key from your label config"},
			{name: "use_blob_urls", boolean: true, def: true, desc: useBlobURLsDescription},
		}},
		{"tasks-json", `Local [loading tasks from "tasks.json" file]`, nil},
	},
	"target": {
		{"s3-completions", "Amazon S3", []storageField{
			{name: "path", desc: "Storage path (e.g. bucket name)"},
			{name: "prefix", desc: "S3 Bucket prefix"},
			{name: "create_local_copy", boolean: true, def: true, desc: "Create a local copy on your disk"},
		}},
		{"gcs-completions", "Google Cloud Storage", []storageField{
			{name: "path", desc: "Storage path (e.g. bucket name)"},
			{name: "prefix", desc: "GCS Bucket prefix"},
			{name: "create_local_copy", boolean: true, def: true, desc: "Create a local copy on your disk"},
		}},
		{"completions-dir", `Local [completions are in "completions" directory]`, nil},
	},
}

// allStorageTypes are the eight registered types (storage.md §1).
var allStorageTypes = map[string]bool{
	"tasks-json": true, "completions-dir": true, "s3": true, "s3-completions": true,
	"gcs": true, "gcs-completions": true, "json": true, "dir-jsons": true,
}

// formOf returns the fields of a type in a role; ok is false when the role
// does not offer the type.
func formOf(role, typ string) ([]storageField, bool) {
	for _, f := range storageForms[role] {
		if f.typ == typ {
			return f.fields, true
		}
	}
	return nil, false
}

// roleRef is the project's storage of a role.
func roleRef(p *store.Project, role string) store.StorageRef {
	if role == "target" {
		return p.Settings.Target
	}
	return p.Settings.Source
}

// storagePath is the readable path of a storage (storage.md §2).
func (s *Server) storagePath(p *store.Project, ref store.StorageRef) string {
	if cloud.IsCloud(ref.Type) {
		if c, err := cloud.ConfigOf(ref); err == nil {
			return c.ReadablePath()
		}
	}
	return s.readablePath(p, ref)
}

// fieldJSON is the WTForms field serialization 0.8.1 sends.
func fieldJSON(f storageField, data any) fiber.Map {
	kind := "StringField"
	if f.boolean {
		kind = "BooleanField"
	}
	return fiber.Map{
		"name": f.name, "id": f.name, "short_name": f.name, "type": kind,
		"data": data, "default": f.def, "object_data": data, "description": f.desc,
		"raw_data": nil, "render_kw": nil, "do_not_call_in_templates": true,
	}
}

// getStorageSettings: GET /api/project/storage-settings (storage.md §3.1).
func (s *Server) getStorageSettings(c *fiber.Ctx) error {
	p, cfg, err := s.project(c)
	if err != nil {
		return err
	}
	firstKey := ""
	if cfg != nil {
		firstKey = cfg.FirstDataKey()
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i, role := range []string{"source", "target"} {
		if i > 0 {
			out.WriteByte(',')
		}
		cur := roleRef(p, role)
		path := s.storagePath(p, cur)
		var curParams map[string]any
		if len(cur.Params) > 0 {
			_ = json.Unmarshal(cur.Params, &curParams)
		}
		fmt.Fprintf(&out, "%q:{", role)
		for j, form := range storageForms[role] {
			if j > 0 {
				out.WriteByte(',')
			}
			current := form.typ == cur.Type
			fields := make([]fiber.Map, 0, len(form.fields))
			for _, f := range form.fields {
				data := f.def
				if current {
					switch {
					case f.name == "path":
						data = cur.Path
					case f.boolean:
						if v, ok := curParams[f.name]; ok {
							data = cloud.Truthy(v)
						}
					default:
						if v, ok := curParams[f.name]; ok && v != nil {
							data = fmt.Sprint(v)
						}
					}
				}
				if f.name == "region" && !current {
					if r := strings.TrimSpace(s.opts.Cloud.Env("S3_REGION")); r != "" {
						data = r
					}
				}
				if f.name == "data_key" && firstKey != "" && (data == nil || data == "") {
					data = firstKey
				}
				fields = append(fields, fieldJSON(f, data))
			}
			entry, err := marshalJSON(fiber.Map{
				"type": form.typ, "current": current, "description": form.desc, "path": path, "fields": fields,
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(&out, "%q:", form.typ)
			out.Write(entry)
		}
		out.WriteByte('}')
	}
	out.WriteByte('}')
	return sendRawJSON(c, fiber.StatusOK, out.Bytes())
}

// storageBody reads the POST body: a JSON object, or form fields.
func storageBody(c *fiber.Ctx) (map[string]any, error) {
	body := map[string]any{}
	ct := string(c.Request().Header.ContentType())
	if strings.HasPrefix(ct, fiber.MIMEApplicationForm) || strings.HasPrefix(ct, fiber.MIMEMultipartForm) {
		c.Request().PostArgs().VisitAll(func(k, v []byte) { body[string(k)] = string(v) })
		if form, err := c.MultipartForm(); err == nil {
			for k, vs := range form.Value {
				if len(vs) > 0 {
					body[k] = vs[0]
				}
			}
		}
		return body, nil
	}
	if len(bytes.TrimSpace(c.Body())) == 0 {
		return body, nil
	}
	if err := json.Unmarshal(c.Body(), &body); err != nil || body == nil {
		return nil, detailError(fiber.StatusBadRequest, "request body must be a JSON object of storage form fields")
	}
	return body, nil
}

// str reads a string form value; missing is "".
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// updateError is the 400 of a storage that cannot be set up.
func updateError(msg string) error {
	return detailError(fiber.StatusBadRequest, "Error while storage update: "+msg)
}

// carriedParams are params a new storage of the same cloud keeps from the
// previous one when the form does not set them: credentials and an
// endpoint that only a config file or CLI can give.
var carriedParams = []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "endpoint_url"}

// postStorageSettings: POST /api/project/storage-settings?type=&storage_for=
// (storage.md §3.2).
func (s *Server) postStorageSettings(c *fiber.Ctx) error {
	body, err := storageBody(c)
	if err != nil {
		return err
	}
	role := c.Query("storage_for")
	if role == "" {
		role = str(body["storage_for"])
	}
	if role != "source" && role != "target" {
		return detailError(fiber.StatusBadRequest, fmt.Sprintf("storage_for must be source or target, not %q", role))
	}
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return err
	}
	qType, bType := c.Query("type"), str(body["type"])
	for _, t := range []string{qType, bType} {
		if t != "" && !allStorageTypes[t] {
			return detailError(fiber.StatusBadRequest, "Unknown storage type: "+t)
		}
	}
	if qType != "" && bType != "" && qType != bType {
		return detailError(fiber.StatusBadRequest, "the storage type is "+qType+" in the query but "+bType+" in the body")
	}
	typ := qType
	if typ == "" {
		typ = bType
	}
	if typ == "" {
		typ = roleRef(p, role).Type
	}
	fields, ok := formOf(role, typ)
	if !ok {
		return updateError(typ + " is not supported")
	}
	values := map[string]any{}
	errs := map[string][]string{}
	for _, f := range fields {
		if f.boolean {
			values[f.name] = cloud.Truthy(body[f.name])
			continue
		}
		v := str(body[f.name])
		values[f.name] = v
		switch f.name {
		case "path":
			if strings.TrimSpace(v) == "" {
				errs["path"] = append(errs["path"], "This field is required.")
			}
		case "regex":
			if _, err := cloud.CompileRegex(v); err != nil {
				errs["regex"] = append(errs["regex"], v+" is not a valid regular expression")
			}
		}
	}
	if len(errs) > 0 {
		return jsonError(fiber.StatusBadRequest, fiber.Map{"errors": errs}, "invalid storage form")
	}
	ref := store.StorageRef{Name: role, Type: typ}
	if cloud.IsCloud(typ) {
		ref.Path = strings.TrimSpace(str(values["path"]))
		delete(values, "path")
		if v := strings.TrimSpace(str(body["endpoint_url"])); v != "" {
			values["endpoint_url"] = v
		}
		if prev := roleRef(p, role); cloud.IsCloud(prev.Type) && cloud.Scheme(prev.Type) == cloud.Scheme(typ) && len(prev.Params) > 0 {
			var old map[string]any
			if json.Unmarshal(prev.Params, &old) == nil {
				for _, k := range carriedParams {
					if _, set := values[k]; !set && old[k] != nil {
						values[k] = old[k]
					}
				}
			}
		}
		params, err := json.Marshal(values)
		if err != nil {
			return err
		}
		ref.Params = params
		if err := s.checkStorage(ref); err != nil {
			return updateError(err.Error())
		}
	}
	p, err = s.st.UpdateSettings(p.Name, func(st *store.Settings) error {
		if role == "source" {
			st.Source = ref
		} else {
			st.Target = ref
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.forgetRefs(p.Name)
	if cloud.IsSource(typ) {
		s.cloudManager().StartSync(p.Name, ref, s.taskMaker(p))
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"result": "ok"})
}

// checkStorage connects to a cloud storage's bucket once, with a fresh
// client (fresh credentials).
func (s *Server) checkStorage(ref store.StorageRef) error {
	cfg, err := cloud.ConfigOf(ref)
	if err != nil {
		return err
	}
	b, err := cloud.Open(cfg, s.opts.Cloud)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), storageCheckTimeout)
	defer cancel()
	return b.Check(ctx)
}

// storageStatusJSON is the answer of the status and sync endpoints.
func (s *Server) storageStatusJSON(p *store.Project) fiber.Map {
	src, tg := s.cloudManager().Status(p.Name)
	src.Type, src.Path = p.Settings.Source.Type, s.storagePath(p, p.Settings.Source)
	tg.Type, tg.Path = p.Settings.Target.Type, s.storagePath(p, p.Settings.Target)
	return fiber.Map{"source": src, "target": tg}
}

// storageStatus: GET /api/project/storage-settings/status.
func (s *Server) storageStatus(c *fiber.Ctx) error {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return err
	}
	return c.JSON(s.storageStatusJSON(p))
}

// storageSync: POST /api/project/storage-settings/sync.
func (s *Server) storageSync(c *fiber.Ctx) error {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return err
	}
	role := formOrQuery(c, "storage_for")
	if role == "" {
		role = "source"
	}
	wait := truthy(formOrQuery(c, "wait"))
	m := s.cloudManager()
	switch role {
	case "source":
		ref := p.Settings.Source
		if !cloud.IsSource(ref.Type) {
			return detailError(fiber.StatusBadRequest, "the source storage is "+ref.Type+": only cloud storages (s3, gcs) sync")
		}
		if !wait {
			m.StartSync(p.Name, ref, s.taskMaker(p))
			return c.Status(fiber.StatusAccepted).JSON(s.storageStatusJSON(p))
		}
		ctx, cancel := context.WithTimeout(c.Context(), syncWaitTimeout)
		defer cancel()
		_, err := m.Sync(ctx, p.Name, ref, s.taskMaker(p))
		if err != nil {
			return syncError(err)
		}
	case "target":
		ref := p.Settings.Target
		if !cloud.IsTarget(ref.Type) {
			return detailError(fiber.StatusBadRequest, "the target storage is "+ref.Type+": only cloud storages (s3-completions, gcs-completions) sync")
		}
		if !wait {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
				defer cancel()
				if _, err := m.SyncTarget(ctx, p.Name, ref); err != nil {
					s.log.Warn("cloud target sync failed", "project", p.Name, "err", err)
				}
			}()
			return c.Status(fiber.StatusAccepted).JSON(s.storageStatusJSON(p))
		}
		ctx, cancel := context.WithTimeout(c.Context(), syncWaitTimeout)
		defer cancel()
		if _, err := m.SyncTarget(ctx, p.Name, ref); err != nil {
			return syncError(err)
		}
	default:
		return detailError(fiber.StatusBadRequest, fmt.Sprintf("storage_for must be source or target, not %q", role))
	}
	if p, err = s.st.Project(p.Name); err != nil {
		return err
	}
	return c.JSON(s.storageStatusJSON(p))
}

// syncError is a failed sync, whose detail names the bucket and gives the
// cloud's message: what the cloud refused (a missing bucket, credentials
// it does not accept) is a 400; a cloud that cannot be reached or fails
// itself is a 502; a store error keeps its own status.
func syncError(err error) error {
	if _, ok := statusOf(err); ok {
		return err
	}
	status := fiber.StatusBadRequest
	var ce *cloud.Error
	if errors.As(err, &ce) && (ce.Status == 0 || ce.Status >= 500) || errors.Is(err, context.DeadlineExceeded) {
		status = fiber.StatusBadGateway
	}
	return envelopeError(status, "Cloud storage sync failed: "+err.Error())
}
