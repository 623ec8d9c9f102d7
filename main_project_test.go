package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestProjectCommand(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"init", "alpha", "--root-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("init: %d %s", code, errb.String())
	}
	if code := run([]string{"project", "rename", "alpha", "beta", "--root-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("rename: %d %s", code, errb.String())
	}
	out.Reset()
	run([]string{"project", "list", "--root-dir", dir}, &out, &errb)
	if !strings.HasPrefix(out.String(), "beta\t") {
		t.Fatalf("list after rename: %q", out.String())
	}
	if code := run([]string{"project", "delete", "beta", "--root-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("delete: %d %s", code, errb.String())
	}
	errb.Reset()
	if code := run([]string{"project", "delete", "beta", "--root-dir", dir}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "not found") {
		t.Fatalf("delete again: %d %s", code, errb.String())
	}
	if code := run([]string{"project", "rename", "x", "--root-dir", dir}, &out, &errb); code != 2 {
		t.Fatalf("bad usage: %d", code)
	}
}
