package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"labelstudio/server"
	"labelstudio/store"
)

// runCmd runs the command line and returns its exit code and output.
func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// projectNames opens the database of root and lists its projects.
func projectNames(t *testing.T, path string) []string {
	t.Helper()
	st, err := store.Open(path, store.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatalf("check %s: %v", path, err)
	}
	infos, err := st.Projects()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range infos {
		names = append(names, p.Name)
	}
	return names
}

func TestMigrateCommand(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join("store", "migrate", "testdata", "image_project")
	code, out, errs := runCmd("migrate", src, "--root-dir", root)
	if code != 0 || !strings.Contains(out, `Migrated project "image_project"`) || !strings.Contains(out, "tasks: 8 stored") ||
		!strings.Contains(out, "Start it with: labelstudio start image_project") {
		t.Fatalf("migrate: %d\n%s\n%s", code, out, errs)
	}
	if b, err := os.ReadFile(filepath.Join(root, uploadDirName, "image_project", "9f2c1d0e-moon.jpg")); err != nil || len(b) == 0 {
		t.Errorf("upload not copied into the server's upload folder: %v", err)
	}
	code, _, errs = runCmd("migrate", "--root-dir", root, src)
	if code != 1 || !strings.Contains(errs, "--force") {
		t.Errorf("second migrate: %d %s", code, errs)
	}
	code, out, errs = runCmd("migrate", src, "--root-dir", root, "--force")
	if code != 0 || !strings.Contains(out, `Re-created project "image_project"`) {
		t.Errorf("forced migrate: %d %s %s", code, out, errs)
	}
	if code, out, errs = runCmd("migrate", src, "--root-dir", root, "--project", "moon"); code != 0 || !strings.Contains(out, `project "moon"`) {
		t.Errorf("--project: %d %s %s", code, out, errs)
	}
	multi := filepath.Join("store", "migrate", "testdata", "multi_root")
	if code, out, errs = runCmd("migrate", multi, "--root-dir", root); code != 0 || !strings.Contains(out, "Multi-session root") ||
		!strings.Contains(out, "start-multi-session") {
		t.Errorf("multi-session: %d %s %s", code, out, errs)
	}
	if code, _, errs = runCmd("migrate", filepath.Join(root, "nope"), "--root-dir", root); code != 1 {
		t.Errorf("missing folder: %d %s", code, errs)
	}
	if code, _, _ = runCmd("migrate", "--root-dir", root); code != 2 {
		t.Errorf("no folder: %d", code)
	}
	names := projectNames(t, filepath.Join(root, dbFileName))
	want := []string{"3f0b5a4e-6d2c-4c8e-9a51-2b7d1e0c9f11/a1c2e3f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
		"3f0b5a4e-6d2c-4c8e-9a51-2b7d1e0c9f11/b7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f0a", "image_project", "moon"}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("projects %q, want %q", names, want)
	}
}

// seedDatabase creates a database in root with one project of n tasks.
func seedDatabase(t *testing.T, root, project string, n int) {
	t.Helper()
	st, err := store.Open(filepath.Join(root, dbFileName), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateProject(project, store.DefaultSettings(), defaultLabelConfig); err != nil {
		t.Fatal(err)
	}
	var tasks []store.NewTask
	for i := 0; i < n; i++ {
		tasks = append(tasks, store.NewTask{Data: json.RawMessage(`{"image":"https://example.com/` + string(rune('a'+i)) + `.jpg"}`), DataKeys: []string{"image"}})
	}
	if _, err := st.ImportTasks(project, tasks, store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveCompletion(project, 0, []byte(`{"result":[]}`), false); err != nil {
		t.Fatal(err)
	}
}

func TestBackupAndRestoreCommands(t *testing.T) {
	root := t.TempDir()
	db := filepath.Join(root, dbFileName)
	if code, _, errs := runCmd("backup", filepath.Join(t.TempDir(), "x.db"), "--root-dir", root); code != 1 || !strings.Contains(errs, "no database") {
		t.Errorf("backup without a database: %d %s", code, errs)
	}
	seedDatabase(t, root, "p", 3)
	backup := filepath.Join(t.TempDir(), "b.db")
	code, out, errs := runCmd("backup", backup, "--root-dir", root)
	if code != 0 || !strings.Contains(out, "1 project(s), 3 task(s), consistency check passed") {
		t.Fatalf("backup: %d %s %s", code, out, errs)
	}
	if code, _, errs = runCmd("backup", backup, "--root-dir", root); code != 1 || !strings.Contains(errs, "--force") {
		t.Errorf("backup over a file: %d %s", code, errs)
	}
	if code, _, errs = runCmd("backup", "--force", backup, "--root-dir", root); code != 0 {
		t.Errorf("backup --force: %d %s", code, errs)
	}
	if code, _, errs = runCmd("backup", db, "--root-dir", root, "--force"); code != 1 {
		t.Errorf("backup onto the database itself: %d %s", code, errs)
	}

	// Change the database, then restore the backup.
	st, err := store.Open(db, store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	st.DeleteProject("p")
	st.CreateProject("other", store.DefaultSettings(), defaultLabelConfig)
	st.Close()
	code, out, errs = runCmd("restore", backup, "--root-dir", root)
	if code != 0 || !strings.Contains(out, "1 project(s), 3 task(s)") || !strings.Contains(out, dbFileName+".bak") {
		t.Fatalf("restore: %d %s %s", code, out, errs)
	}
	if names := projectNames(t, db); strings.Join(names, ",") != "p" {
		t.Errorf("restored projects %q", names)
	}
	if names := projectNames(t, db+".bak"); strings.Join(names, ",") != "other" {
		t.Errorf("kept projects %q", names)
	}
	if code, _, errs = runCmd("restore", backup, "--root-dir", root); code != 1 || !strings.Contains(errs, ".bak") {
		t.Errorf("restore over a .bak: %d %s", code, errs)
	}
	if code, _, errs = runCmd("restore", backup, "--root-dir", root, "--force"); code != 0 {
		t.Errorf("restore --force: %d %s", code, errs)
	}

	// Damaged and foreign files are refused; the database stays.
	for name, content := range map[string][]byte{
		"empty.db":     nil,
		"garbage.db":   bytes.Repeat([]byte("not a database "), 1000),
		"truncated.db": mustRead(t, backup)[:5000],
	} {
		bad := filepath.Join(t.TempDir(), name)
		os.WriteFile(bad, content, 0o600)
		if code, _, errs = runCmd("restore", bad, "--root-dir", root, "--force"); code != 1 || !strings.Contains(errs, "refusing to restore") {
			t.Errorf("restore %s: %d %s", name, code, errs)
		}
	}
	if code, _, _ = runCmd("restore", filepath.Join(root, "missing.db"), "--root-dir", root); code != 1 {
		t.Errorf("restore of a missing file: %d", code)
	}
	if names := projectNames(t, db); strings.Join(names, ",") != "p" {
		t.Errorf("projects after refused restores %q", names)
	}

	// A restore into an empty data directory needs no .bak.
	fresh := t.TempDir()
	if code, out, errs = runCmd("restore", backup, "--root-dir", fresh); code != 0 || strings.Contains(out, ".bak") {
		t.Errorf("restore into a new directory: %d %s %s", code, out, errs)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBackupAndRestoreWhileServing: restore refuses a database a server
// holds; backup then downloads from the running server (with its
// password).
func TestBackupAndRestoreWhileServing(t *testing.T) {
	root := t.TempDir()
	seedDatabase(t, root, "p", 2)
	backup := filepath.Join(t.TempDir(), "b.db")
	if code, _, errs := runCmd("backup", backup, "--root-dir", root); code != 0 {
		t.Fatalf("backup: %s", errs)
	}
	st, err := store.Open(filepath.Join(root, dbFileName), store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if code, _, errs := runCmd("restore", backup, "--root-dir", root, "--force"); code != 1 || !strings.Contains(errs, "stop it") {
		t.Errorf("restore while locked: %d %s", code, errs)
	}
	if code, _, errs := runCmd("backup", filepath.Join(t.TempDir(), "c.db"), "--root-dir", root); code != 1 || !strings.Contains(errs, "no running labelstudio") {
		t.Errorf("backup while locked, no server: %d %s", code, errs)
	}

	srv := server.New(st, server.Options{Project: "p", Version: "test", Password: "secret"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.App().Listener(ln) //nolint:errcheck // ends with Shutdown
	defer srv.Shutdown(5 * time.Second)
	if err := writeAddrFile(root, "http://"+ln.Addr().String()+"/"); err != nil {
		t.Fatal(err)
	}
	// The server answers once it runs.
	for i := 0; i < 50 && runningInstance(root) == ""; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	c := filepath.Join(t.TempDir(), "c.db")
	if code, _, errs := runCmd("backup", c, "--root-dir", root); code != 1 || !strings.Contains(errs, "--password") {
		t.Errorf("backup from a server with a password, without it: %d %s", code, errs)
	}
	code, out, errs := runCmd("backup", c, "--root-dir", root, "--password", "secret")
	if code != 0 || !strings.Contains(out, "from the running server") || !strings.Contains(out, "1 project(s), 2 task(s)") {
		t.Fatalf("backup from the running server: %d %s %s", code, out, errs)
	}
	if names := projectNames(t, c); strings.Join(names, ",") != "p" {
		t.Errorf("downloaded backup holds %q", names)
	}
}
