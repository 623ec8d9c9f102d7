package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func TestImporterCommitAndAbort(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("before"))
	im, err := s.BeginImport(p, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for c := 0; c < 3; c++ {
		var chunk []NewTask
		for i := 0; i < 100; i++ {
			chunk = append(chunk, textTask(fmt.Sprint(c, i)))
		}
		if err := im.Add(chunk); err != nil {
			t.Fatal(err)
		}
	}
	res, err := im.Commit()
	if err != nil || len(res.TaskIDs()) != 300 || res.TaskIDs()[0] != 1 || res.TaskIDs()[299] != 300 {
		t.Fatalf("commit: %v %d %v", err, len(res.TaskIDs()), res.TaskIDs()[:1])
	}
	im, _ = s.BeginImport(p, ImportOptions{})
	im.Add([]NewTask{textTask("x"), textTask("y")})
	if err := im.Add([]NewTask{{Data: []byte(`"bad"`)}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad chunk: %v", err)
	}
	if err := im.Abort(); err != nil {
		t.Fatal(err)
	}
	pr, _ := s.Project(p)
	if pr.Counters.Tasks != 301 {
		t.Fatalf("tasks after abort: %d", pr.Counters.Tasks)
	}
	if ids := mustImport(t, s, p, textTask("after")); ids[0] != 301 {
		t.Fatalf("id after abort: %v", ids)
	}
	f, _ := s.Facts(p)
	if fmt.Sprint(f.CommonDataKeys) != "[text]" {
		t.Fatalf("data keys after abort: %v", f.CommonDataKeys)
	}
}

// TestImportRolledBackAfterCrash leaves an import unfinished, reopens the
// file and checks that its tasks are gone.
func TestImportRolledBackAfterCrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crash.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := newProject(t, s)
	mustImport(t, s, p, textTask("kept"))
	im, _ := s.BeginImport(p, ImportOptions{})
	im.Add([]NewTask{textTask("lost"), textTask("lost too")})
	// Simulate a crash: close the file without Commit or Abort.
	s.writes.close()
	s.db.Close()
	s2, err := Open(path, Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	pr, _ := s2.Project(p)
	if pr.Counters.Tasks != 1 {
		t.Fatalf("tasks after recovery: %d", pr.Counters.Tasks)
	}
	if err := s2.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Task(p, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("task of the unfinished import: %v", err)
	}
}

func TestRestoreTasksAndBackup(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	err := s.RestoreTasks(p, []ExactTask{
		{ID: 7, Task: textTask("seven"), Completions: []ExactCompletion{
			{ID: 7001, Body: []byte(`{"result":[],"skipped":true}`), CreatedAt: 1500000000, HasCreatedAt: true},
			{ID: 7005, Body: []byte(`{"result":[]}`)},
		}},
		{ID: 2, Task: textTask("two")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := s.Task(p, 7)
	if err != nil || len(tk.Completions) != 2 || tk.Completions[0].ID != 7001 || !tk.Completions[0].WasCancelled || tk.CompletedAt != 1500000000 {
		t.Fatalf("restored task: %+v %v", tk, err)
	}
	if id, _ := s.SaveCompletion(p, 7, []byte(`{}`), false); id != 7006 {
		t.Fatalf("next completion id after restore: %d", id)
	}
	if ids := mustImport(t, s, p, textTask("next")); ids[0] != 8 {
		t.Fatalf("next task id after restore: %v", ids)
	}
	if err := s.RestoreTasks(p, []ExactTask{{ID: 2, Task: textTask("dup")}}); !errors.Is(err, ErrConflict) {
		t.Fatalf("restore over an existing id: %v", err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if _, err := s.BackupFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
	pr, _ := b.Project(p)
	if pr.Counters.Tasks != 3 || pr.Counters.Completions != 3 {
		t.Fatalf("backup counters: %+v", pr.Counters)
	}
}

// TestAbortInChunks aborts an import bigger than one rollback transaction.
func TestAbortInChunks(t *testing.T) {
	s := openTest(t)
	p := newProject(t, s)
	mustImport(t, s, p, textTask("kept"))
	im, _ := s.BeginImport(p, ImportOptions{})
	for c := 0; c < 3; c++ {
		chunk := make([]NewTask, 9000)
		for i := range chunk {
			chunk[i] = textTask(fmt.Sprint(c, "-", i))
		}
		if err := im.Add(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := im.Abort(); err != nil {
		t.Fatal(err)
	}
	pr, _ := s.Project(p)
	if pr.Counters.Tasks != 1 {
		t.Fatalf("tasks after abort: %d", pr.Counters.Tasks)
	}
}
