// Package migrate imports Label Studio 0.8.x project folders into a
// labelstudio store (spec storage.md §5.6): the labeling config, the
// settings of config.json, the tasks of tasks.json under their own ids, the
// completions of completions/<task id>.json with their ids and times, and
// the uploaded files. A multi-session root (<root>/<user uuid>/<project
// uuid>/) migrates every project inside it.
//
// Damaged input never stops a migration: an empty or truncated file, a bad
// task entry or a completion file without a task is reported in the
// project's warnings and skipped. Only a failure of the store itself (or an
// unreadable folder) is an error; the half-migrated project is then removed.
package migrate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"labelstudio/store"
)

// Options tune a migration.
type Options struct {
	// Project names the project a single project folder becomes; empty
	// means the folder's base name. It must be empty for a multi-session
	// root, whose projects are named <user uuid>/<project uuid>.
	Project string
	// UploadRoot is the folder that holds one upload folder per project
	// (the server's upload folder); the files of a project's upload/ are
	// copied into UploadRoot/store.UploadFolder(project). Empty skips the
	// copy with a warning.
	UploadRoot string
	// Force re-creates projects that exist already (their tasks and
	// completions are deleted first). Without it an existing project is
	// an error and nothing is migrated.
	Force bool
	// DefaultLabelConfig is the labeling config of a folder without
	// config.xml.
	DefaultLabelConfig string
}

// Report tells what a migration did.
type Report struct {
	// Source is the migrated folder.
	Source string
	// MultiSession is true when Source was a multi-session root.
	MultiSession bool
	// Projects are the migrated projects, in migration order.
	Projects []ProjectReport
	// Warnings are problems outside any one project (folders skipped).
	Warnings []string
}

// ProjectReport tells what the migration of one project folder did.
type ProjectReport struct {
	// Dir is the project folder.
	Dir string
	// Name and UUID identify the project in the store.
	Name, UUID string
	// Recreated is true when an existing project was replaced (--force).
	Recreated bool
	// Tasks is the number of tasks stored.
	Tasks int
	// CompletedTasks is the number of stored tasks with completions.
	CompletedTasks int
	// Completions is the number of completions stored, CancelledCompletions
	// how many of them are skipped ones.
	Completions, CancelledCompletions int
	// AssignedIDs counts completions that got a new id (missing,
	// non-numeric or duplicate in the file).
	AssignedIDs int
	// FilledCreatedAt counts completions whose created_at was missing or
	// unreadable and was set to the file's modification time.
	FilledCreatedAt int
	// SkippedTasks counts task entries of tasks.json that were not stored.
	SkippedTasks int
	// EmptyRecords are task ids whose completions file holds an empty
	// completions list (not stored: the task stays uncompleted).
	EmptyRecords []int64
	// Orphans are task ids of completion files without a stored task.
	Orphans []int64
	// DamagedFiles counts completion files that could not be read.
	DamagedFiles int
	// Uploads is the number of upload files copied, UploadBytes their size.
	Uploads     int
	UploadBytes int64
	// UploadDir is where the upload files went.
	UploadDir string
	// RewrittenURLs counts task data values rewritten to /data/upload/.
	RewrittenURLs int
	// Warnings describe everything that was skipped or changed.
	Warnings []string
}

func (r *ProjectReport) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// Files of a 0.8.x project folder.
const (
	configJSONName  = "config.json"
	configXMLName   = "config.xml"
	tasksJSONName   = "tasks.json"
	completionsName = "completions"
	uploadName      = "upload"
)

// uuidPattern matches a UUID-shaped string (8-4-4-4-12 hex digits), as
// 0.8.1 looks for user and project folders of a multi-session root.
var uuidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// IsProjectDir reports whether dir looks like a 0.8.x project folder: it
// holds config.json, config.xml or tasks.json.
func IsProjectDir(dir string) bool {
	for _, name := range []string{configJSONName, configXMLName, tasksJSONName} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// target is one project folder to migrate and the project it becomes.
type target struct {
	dir, name, uuid string
}

// Migrate imports the project folder, or every project of the
// multi-session root, at dir into st. The report lists what was stored and
// every problem met; err is set only when the migration could not run or
// the store failed (projects migrated before that stay, the failing one
// is removed).
func Migrate(st *store.Store, dir string, opts Options) (*Report, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("migrate: %s is not a folder", abs)
	}
	rep := &Report{Source: abs}
	var targets []target
	if IsProjectDir(abs) {
		name := opts.Project
		if name == "" {
			name = filepath.Base(abs)
		}
		targets = []target{{dir: abs, name: name}}
	} else {
		if opts.Project != "" {
			return nil, fmt.Errorf("migrate: %s is not a project folder (no config.json, config.xml or tasks.json); --project names the project of one folder", abs)
		}
		targets, rep.Warnings, err = multiSessionTargets(abs)
		if err != nil {
			return nil, err
		}
		if len(targets) == 0 {
			return rep, fmt.Errorf("migrate: %s is neither a Label Studio project folder (config.json, config.xml, tasks.json) nor a multi-session root (<user uuid>/<project uuid>/ folders)", abs)
		}
		rep.MultiSession = true
	}
	if err := checkTargets(st, targets, opts.Force); err != nil {
		return rep, err
	}
	for _, t := range targets {
		pr, err := migrateProject(st, t, opts)
		if pr != nil {
			rep.Projects = append(rep.Projects, *pr)
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// multiSessionTargets lists the projects of a multi-session root:
// <root>/<user uuid>/<project uuid>/ folders that look like projects.
func multiSessionTargets(root string) ([]target, []string, error) {
	users, err := os.ReadDir(root)
	if err != nil {
		return nil, nil, fmt.Errorf("migrate: read %s: %w", root, err)
	}
	var out []target
	var warnings []string
	for _, u := range users {
		if !u.IsDir() {
			continue
		}
		user := strings.ToLower(uuidPattern.FindString(u.Name()))
		if user == "" {
			warnings = append(warnings, fmt.Sprintf("%s: not a user folder (no uuid in its name), skipped", u.Name()))
			continue
		}
		udir := filepath.Join(root, u.Name())
		projects, err := os.ReadDir(udir)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: %v, skipped", u.Name(), err))
			continue
		}
		for _, p := range projects {
			if !p.IsDir() {
				continue
			}
			pdir := filepath.Join(udir, p.Name())
			id := strings.ToLower(uuidPattern.FindString(p.Name()))
			switch {
			case id == "":
				warnings = append(warnings, fmt.Sprintf("%s/%s: not a project folder (no uuid in its name), skipped", u.Name(), p.Name()))
			case !IsProjectDir(pdir):
				warnings = append(warnings, fmt.Sprintf("%s/%s: no config.json, config.xml or tasks.json, skipped", u.Name(), p.Name()))
			default:
				out = append(out, target{dir: pdir, name: user + "/" + id, uuid: id})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, warnings, nil
}

// checkTargets refuses, before anything is written, projects that exist
// already (unless force) and uuids another project holds.
func checkTargets(st *store.Store, targets []target, force bool) error {
	var exist []string
	seen := map[string]bool{}
	for _, t := range targets {
		if seen[t.name] {
			return fmt.Errorf("migrate: two folders become project %q", t.name)
		}
		seen[t.name] = true
		if _, err := st.Project(t.name); err == nil {
			exist = append(exist, t.name)
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("migrate: %w", err)
		}
		if t.uuid != "" {
			owner, err := st.ProjectByUUID(t.uuid)
			switch {
			case err == nil && owner != t.name:
				return fmt.Errorf("migrate: project %q already has the uuid %s of folder %s", owner, t.uuid, t.dir)
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("migrate: %w", err)
			}
		}
	}
	if len(exist) > 0 && !force {
		return fmt.Errorf("migrate: project %s exists already in %s; use --force to re-create it (its tasks and completions are deleted)", quoteList(exist), st.Path())
	}
	return nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// maxPrintedWarnings caps the warnings Print shows per project.
const maxPrintedWarnings = 100

// Print writes a human-readable account of the report.
func (r *Report) Print(w io.Writer) {
	if r.MultiSession {
		fmt.Fprintf(w, "Multi-session root %s: %d project(s)\n", r.Source, len(r.Projects))
	}
	for _, wm := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", wm)
	}
	for i := range r.Projects {
		p := &r.Projects[i]
		verb := "Migrated"
		if p.Recreated {
			verb = "Re-created"
		}
		fmt.Fprintf(w, "%s project %q (uuid %s) from %s\n", verb, p.Name, p.UUID, p.Dir)
		fmt.Fprintf(w, "  tasks: %d stored", p.Tasks)
		if p.SkippedTasks > 0 {
			fmt.Fprintf(w, ", %d skipped", p.SkippedTasks)
		}
		fmt.Fprintf(w, "\n  completions: %d stored on %d task(s) (%d skipped/cancelled)", p.Completions, p.CompletedTasks, p.CancelledCompletions)
		if p.AssignedIDs > 0 {
			fmt.Fprintf(w, ", %d new id(s)", p.AssignedIDs)
		}
		if p.FilledCreatedAt > 0 {
			fmt.Fprintf(w, ", %d created_at from the file time", p.FilledCreatedAt)
		}
		fmt.Fprintln(w)
		if len(p.EmptyRecords) > 0 {
			fmt.Fprintf(w, "  empty completion records skipped: %d (tasks %s)\n", len(p.EmptyRecords), idList(p.EmptyRecords))
		}
		if len(p.Orphans) > 0 {
			fmt.Fprintf(w, "  orphan completion files skipped: %d (tasks %s not in tasks.json)\n", len(p.Orphans), idList(p.Orphans))
		}
		if p.DamagedFiles > 0 {
			fmt.Fprintf(w, "  damaged completion files skipped: %d\n", p.DamagedFiles)
		}
		if p.UploadDir != "" {
			fmt.Fprintf(w, "  uploads: %d file(s), %d bytes copied to %s", p.Uploads, p.UploadBytes, p.UploadDir)
			if p.RewrittenURLs > 0 {
				fmt.Fprintf(w, "; %d task URL(s) rewritten to /data/upload/", p.RewrittenURLs)
			}
			fmt.Fprintln(w)
		}
		for j, wm := range p.Warnings {
			if j == maxPrintedWarnings {
				fmt.Fprintf(w, "  ... and %d more warning(s)\n", len(p.Warnings)-j)
				break
			}
			fmt.Fprintf(w, "  warning: %s\n", wm)
		}
	}
}

// idList shows at most 20 ids.
func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i == 20 {
			fmt.Fprintf(&b, ", … (%d more)", len(ids)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, id)
	}
	return b.String()
}
