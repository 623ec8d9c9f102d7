package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"labelstudio/store"
	"labelstudio/store/migrate"
)

const adminUsage = `Usage:
  labelstudio migrate DIR [--project NAME] [--root-dir D] [--force]
      import a Label Studio 0.8.x project folder (config.json, config.xml,
      tasks.json, completions/, upload/) into the database, keeping task and
      completion ids; a multi-session root (DIR/<user uuid>/<project uuid>/)
      migrates every project in it as <user uuid>/<project uuid>.
      --project NAME   the project's name (default: the folder's name)
      --force          re-create a project that exists already

  labelstudio backup FILE [--root-dir D] [--force] [--username U --password P]
      write a consistent copy of the database to FILE and check it. While a
      labelstudio serves the data directory, the copy comes from its
      GET /api/backup (give its --username/--password if it has some).
      --force          overwrite FILE

  labelstudio restore FILE [--root-dir D] [--force]
      check the backup FILE and make it the database of the data directory;
      the current database is kept as labelstudio.db.bak. Stop the server
      first.
      --force          overwrite an existing labelstudio.db.bak
`

// lockProbeTimeout is how long backup and restore wait for the database
// lock before they conclude that a server holds it.
const lockProbeTimeout = 300 * time.Millisecond

// runAdmin runs the migrate, backup and restore commands.
func runAdmin(cmd string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adminUsage) }
	var rootDir, project, username, password string
	var force bool
	fs.StringVar(&rootDir, "root-dir", "", "data directory")
	fs.BoolVar(&force, "force", false, "replace what exists")
	switch cmd {
	case "migrate":
		fs.StringVar(&project, "project", "", "project name")
	case "backup":
		fs.StringVar(&username, "username", "", "basic auth user of the running server")
		fs.StringVar(&password, "password", "", "basic auth password of the running server")
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(pos) != 1 {
		what := map[string]string{"migrate": "one project folder", "backup": "one backup file to write", "restore": "one backup file"}[cmd]
		fmt.Fprintf(stderr, "labelstudio %s: %s expected, got %q\n\n%s", cmd, what, pos, adminUsage)
		return 2
	}
	dir, err := dataDir(rootDir)
	if err == nil {
		switch cmd {
		case "migrate":
			err = migrateCommand(dir, pos[0], project, force, stdout)
		case "backup":
			err = backupCommand(dir, pos[0], force, username, password, stdout)
		case "restore":
			err = restoreCommand(dir, pos[0], force, stdout)
		default:
			err = fmt.Errorf("unknown command %q", cmd)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "labelstudio %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// migrateCommand imports a 0.8.x project folder or multi-session root into
// the database of the data directory dir and prints what it did.
func migrateCommand(dir, src, project string, force bool, stdout io.Writer) error {
	st, err := store.Open(filepath.Join(dir, dbFileName), store.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%w: a running labelstudio uses %s; stop it first, then migrate", err, dir)
		}
		return err
	}
	defer st.Close()
	rep, err := migrate.Migrate(st, src, migrate.Options{
		Project:            project,
		UploadRoot:         filepath.Join(dir, uploadDirName),
		Force:              force,
		DefaultLabelConfig: defaultLabelConfig,
	})
	if rep != nil {
		rep.Print(stdout)
	}
	if err != nil {
		return err
	}
	switch {
	case rep.MultiSession:
		fmt.Fprintf(stdout, "Serve them with: labelstudio start-multi-session --root-dir %s\n", dir)
	case len(rep.Projects) == 1:
		fmt.Fprintf(stdout, "Start it with: labelstudio start %s --root-dir %s\n", rep.Projects[0].Name, dir)
	}
	return nil
}

// backupCommand writes a checked copy of the database of dir to file:
// from the database itself, or, while a server holds it, from the
// server's GET /api/backup.
func backupCommand(dir, file string, force bool, username, password string, stdout io.Writer) error {
	dbPath := filepath.Join(dir, dbFileName)
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("no database to back up: %w", err)
	}
	if sameFile(dbPath, file) {
		return fmt.Errorf("%s is the database itself; choose another file", file)
	}
	if _, err := os.Stat(file); err == nil && !force {
		return fmt.Errorf("%s exists: use --force to overwrite it", file)
	}
	if fi, err := os.Stat(filepath.Dir(file)); err != nil || !fi.IsDir() {
		return fmt.Errorf("cannot write %s: its folder does not exist", file)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".labelstudio-backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	var n int64
	var via string
	st, err := store.Open(dbPath, store.Options{ReadOnly: true, Timeout: lockProbeTimeout})
	switch {
	case err == nil:
		n, err = st.Backup(tmp)
		if cerr := st.Close(); err == nil {
			err = cerr
		}
	case errors.Is(err, store.ErrLocked):
		running := runningInstance(dir)
		if running == "" {
			err = fmt.Errorf("%w, and no running labelstudio answers for %s: stop the process that holds it, or download GET /api/backup from the server", err, dir)
			break
		}
		via = " (from the running server at " + running + ")"
		n, err = fetchBackup(running, username, password, tmp)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	sum, err := verifyDatabase(tmp.Name())
	if err != nil {
		return fmt.Errorf("the copy is not usable, nothing written: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "Backup of %s written to %s%s: %d bytes, %s, consistency check passed.\n", dbPath, file, via, n, sum)
	return nil
}

// fetchBackup downloads GET /api/backup of a running server into w.
func fetchBackup(base, username, password string, w io.Writer) (int64, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/api/backup")
	if err != nil {
		return 0, fmt.Errorf("server address %q: %w", base, err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	if password != "" {
		if username == "" {
			username = "ls"
		}
		req.SetBasicAuth(username, password)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if host, _, err := net.SplitHostPort(u.Host); err == nil && isLoopback(host) {
		// A local server on TLS usually has a self-made certificate.
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return 0, fmt.Errorf("download from the running server: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		return 0, errors.New("the running server asks for a password: pass its --username and --password")
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("the running server answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("download from the running server: %w", err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("download from the running server ended after %d of %d bytes", n, resp.ContentLength)
	}
	return n, nil
}

// dbSummary tells what a database holds.
type dbSummary struct {
	projects int
	tasks    int64
}

func (s dbSummary) String() string {
	return fmt.Sprintf("%d project(s), %d task(s)", s.projects, s.tasks)
}

// verifyDatabase opens a database file read-only, runs the consistency
// check and reads every project. A file that is not a database is an
// error, never a crash.
func verifyDatabase(path string) (sum dbSummary, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s is damaged: %v", path, r)
		}
	}()
	fi, err := os.Stat(path)
	if err != nil {
		return sum, err
	}
	if !fi.Mode().IsRegular() {
		return sum, fmt.Errorf("%s is not a file", path)
	}
	st, err := store.Open(path, store.Options{ReadOnly: true, Timeout: lockProbeTimeout})
	if err != nil {
		return sum, fmt.Errorf("%s is not a labelstudio database: %w", path, err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		return sum, fmt.Errorf("%s fails the consistency check: %w", path, err)
	}
	hasProjects := false
	if err := st.DB().View(func(tx *bolt.Tx) error {
		hasProjects = tx.Bucket([]byte("projects")) != nil
		return nil
	}); err != nil {
		return sum, fmt.Errorf("read %s: %w", path, err)
	}
	if !hasProjects {
		return sum, fmt.Errorf("%s is a bbolt file but not a labelstudio database (no projects)", path)
	}
	infos, err := st.Projects()
	if err != nil {
		return sum, fmt.Errorf("read the projects of %s: %w", path, err)
	}
	for _, info := range infos {
		p, err := st.Project(info.Name)
		if err != nil {
			return sum, fmt.Errorf("read project %q of %s: %w", info.Name, path, err)
		}
		sum.projects++
		sum.tasks += p.Counters.Tasks
	}
	return sum, nil
}

// restoreCommand makes a checked copy of the backup file the database of
// dir, keeping the current one as labelstudio.db.bak.
func restoreCommand(dir, file string, force bool, stdout io.Writer) error {
	target := filepath.Join(dir, dbFileName)
	bak := target + ".bak"
	if sameFile(target, file) {
		return fmt.Errorf("%s is the database itself", file)
	}
	sum, err := verifyDatabase(file)
	if err != nil {
		return fmt.Errorf("refusing to restore: %w", err)
	}
	_, statErr := os.Stat(target)
	hasTarget := statErr == nil
	if hasTarget {
		if _, err := os.Stat(bak); err == nil && !force && !sameFile(bak, file) {
			return fmt.Errorf("%s exists from an earlier restore: move it away or use --force to overwrite it", bak)
		}
		// Hold the current database's lock (shared) while it is replaced:
		// a server that runs on it makes this fail, one that starts now
		// waits.
		held, err := store.Open(target, store.Options{ReadOnly: true, Timeout: lockProbeTimeout})
		switch {
		case errors.Is(err, store.ErrLocked):
			return fmt.Errorf("%w: a running labelstudio uses %s; stop it before restoring", err, dir)
		case err != nil:
			fmt.Fprintf(stdout, "The current database does not open (%v); it is replaced and kept as %s.\n", err, bak)
		default:
			defer held.Close()
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create the data directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".labelstudio-restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = copyInto(tmp, file)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: copy %s: %w", file, err)
	}
	if hasTarget {
		if err := os.Rename(target, bak); err != nil {
			return fmt.Errorf("restore: keep the current database as %s: %w", bak, err)
		}
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		if hasTarget {
			if rerr := os.Rename(bak, target); rerr != nil {
				return fmt.Errorf("restore: %w; and putting the old database back failed (%v): it is %s", err, rerr, bak)
			}
		}
		return fmt.Errorf("restore: %w", err)
	}
	syncDir(dir)
	fmt.Fprintf(stdout, "Restored %s into %s: %s.\n", file, target, sum)
	if hasTarget {
		fmt.Fprintf(stdout, "The previous database is kept as %s.\n", bak)
	}
	return nil
}

// copyInto copies the file at src into w.
func copyInto(w io.Writer, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = io.Copy(w, in)
	return err
}

// sameFile reports whether two paths name the same existing file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}

// syncDir makes renames in dir durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
