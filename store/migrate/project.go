package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// Batch limits: tasks are stored in transactions of at most this many
// tasks, completions or bytes.
const (
	batchTasks       = 1000
	batchCompletions = 5000
	batchBytes       = 32 << 20
)

// pathKeys are config.json keys that name files of the old folder; they
// mean nothing in the database and are dropped from the settings.
var pathKeys = []string{"label_config", "input_path", "output_dir", "config_path"}

// migrateProject migrates one project folder. On a store failure the
// project is removed again and the error returned.
func migrateProject(st *store.Store, t target, opts Options) (*ProjectReport, error) {
	rep := &ProjectReport{Dir: t.dir, Name: t.name}
	cfg := readConfigJSON(t.dir, rep)

	labelConfig := readLabelConfig(t.dir, cfg, opts.DefaultLabelConfig, rep)
	settings := projectSettings(cfg, rep)
	tasksPath := resolvePath(t.dir, cfg, "input_path", tasksJSONName, rep)
	compDir := resolvePath(t.dir, cfg, "output_dir", completionsName, rep)

	uuid := t.uuid
	if old, err := st.Project(t.name); err == nil {
		if !opts.Force {
			return rep, fmt.Errorf("migrate: project %q exists already; use --force to re-create it", t.name)
		}
		if uuid == "" {
			uuid = old.UUID
		}
		if err := st.DeleteProject(t.name); err != nil {
			return rep, fmt.Errorf("migrate: re-create project %q: %w", t.name, err)
		}
		rep.Recreated = true
	} else if !errors.Is(err, store.ErrNotFound) {
		return rep, fmt.Errorf("migrate: %w", err)
	}
	if uuid == "" {
		uuid = store.NewUUID()
	}
	p, err := st.CreateProjectWithUUID(t.name, uuid, settings, labelConfig)
	if err != nil {
		return rep, fmt.Errorf("migrate: create project %q: %w", t.name, err)
	}
	rep.UUID = p.UUID

	m := &projectMigration{st: st, rep: rep, name: t.name}
	if err := m.copyUploads(filepath.Join(t.dir, uploadName), opts.UploadRoot); err != nil {
		return rep, m.abort(err)
	}
	m.compFiles = scanCompletionFiles(compDir, rep)
	if err := m.migrateTasks(tasksPath); err != nil {
		return rep, m.abort(err)
	}
	for id := range m.compFiles {
		rep.Orphans = append(rep.Orphans, id)
	}
	sort.Slice(rep.Orphans, func(i, j int) bool { return rep.Orphans[i] < rep.Orphans[j] })
	sort.Slice(rep.EmptyRecords, func(i, j int) bool { return rep.EmptyRecords[i] < rep.EmptyRecords[j] })
	for _, id := range rep.Orphans {
		rep.warnf("completions/%s: task %d is not in tasks.json; not migrated (0.8.1 showed it only in exports)", filepath.Base(m.compFiles[id]), id)
	}
	return rep, nil
}

// projectMigration is the state of one project's migration.
type projectMigration struct {
	st   *store.Store
	rep  *ProjectReport
	name string

	// uploaded holds the names of the copied upload files (slash paths
	// relative to upload/).
	uploaded map[string]bool
	// compFiles maps task ids to completion files not yet used.
	compFiles map[int64]string
	// seen holds the task ids of tasks.json met so far.
	seen map[int64]bool

	// importCompletions counts tasks.json entries with import-time
	// completions (not migrated).
	importCompletions int

	batch      []preparedTask
	batchComps int
	batchBytes int
}

// abort removes the half-migrated project and returns err.
func (m *projectMigration) abort(err error) error {
	if derr := m.st.DeleteProject(m.name); derr != nil {
		return fmt.Errorf("migrate project %q: %w (removing the partial project failed too: %v)", m.name, err, derr)
	}
	return fmt.Errorf("migrate project %q (nothing of it was kept): %w", m.name, err)
}

// readConfigJSON reads config.json as an object of raw values; a missing
// or damaged file gives nil (the defaults) and a warning for damage.
func readConfigJSON(dir string, rep *ProjectReport) map[string]json.RawMessage {
	b, err := os.ReadFile(filepath.Join(dir, configJSONName))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			rep.warnf("config.json: %v; default settings used", err)
		}
		return nil
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(b, &cfg); err != nil {
		rep.warnf("config.json is damaged (%v); default settings used", err)
		return nil
	}
	return cfg
}

// configString returns a string value of config.json, "" when absent or
// not a string.
func configString(cfg map[string]json.RawMessage, key string) string {
	var s string
	if raw, ok := cfg[key]; ok && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// resolvePath finds a file config.json names: relative paths are taken
// from the project folder; a path that does not exist falls back to the
// usual name in the project folder (0.8.1 stores absolute paths, which
// break when a folder moves).
func resolvePath(dir string, cfg map[string]json.RawMessage, key, fallback string, rep *ProjectReport) string {
	def := filepath.Join(dir, fallback)
	v := configString(cfg, key)
	if v == "" {
		return def
	}
	p := v
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p != def {
		rep.warnf("config.json: %s %q does not exist; %s of the folder used", key, v, fallback)
	}
	return def
}

// readLabelConfig returns the labeling config: config.xml (or the file or
// inline XML config.json names) verbatim, else def.
func readLabelConfig(dir string, cfg map[string]json.RawMessage, def string, rep *ProjectReport) string {
	var text string
	if v := strings.TrimSpace(configString(cfg, "label_config")); strings.HasPrefix(v, "<") {
		text = configString(cfg, "label_config")
	} else {
		p := resolvePath(dir, cfg, "label_config", configXMLName, rep)
		b, err := os.ReadFile(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			rep.warnf("no labeling config (%s); the default one is used", filepath.Base(p))
			return def
		case err != nil:
			rep.warnf("labeling config: %v; the default one is used", err)
			return def
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "" {
		rep.warnf("the labeling config is empty; the default one is used")
		return def
	}
	if _, err := labelconfig.Validate(text); err != nil {
		rep.warnf("the labeling config does not pass validation (%v); stored as it is, fix it on the Setup page", err)
	}
	return text
}

// projectSettings builds the settings from config.json: the defaults with
// every known key of the file applied, except the file paths of the old
// folder and local storages (whose paths pointed into the old folder).
// A key whose value has the wrong type is skipped with a warning.
func projectSettings(cfg map[string]json.RawMessage, rep *ProjectReport) store.Settings {
	settings := store.DefaultSettings()
	if cfg == nil {
		return settings
	}
	clean := make(map[string]json.RawMessage, len(cfg))
	for k, v := range cfg {
		clean[k] = v
	}
	for _, k := range pathKeys {
		delete(clean, k)
	}
	for key, local := range map[string]string{"source": "tasks-json", "target": "completions-dir"} {
		raw, ok := clean[key]
		if !ok {
			continue
		}
		var ref struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &ref); err != nil || ref.Type == "" || ref.Type == local {
			delete(clean, key)
			continue
		}
		rep.warnf("config.json: %s storage %q kept; its id map (%s.json) is not migrated, so reconnecting it may number its objects anew", key, ref.Type, key)
	}
	whole, err := json.Marshal(clean)
	if err == nil {
		trial := settings
		if trial.Apply(whole) == nil {
			return trial
		}
	}
	keys := make([]string, 0, len(clean))
	for k := range clean {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		one, err := json.Marshal(map[string]json.RawMessage{k: clean[k]})
		if err != nil {
			rep.warnf("config.json: %s skipped: %v", k, err)
			continue
		}
		trial := settings
		if err := trial.Apply(one); err != nil {
			rep.warnf("config.json: %s = %s skipped: %v", k, shorten(clean[k]), err)
			continue
		}
		settings = trial
	}
	return settings
}

// shorten cuts a raw value for a message.
func shorten(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}
