//go:build !unix

package main

import (
	"os"
	"os/exec"
)

// setOwnProcessGroup does nothing on systems without process groups.
func setOwnProcessGroup(*exec.Cmd) {}

// fdatasync falls back to a full sync where there is no fdatasync.
func fdatasync(f *os.File) error { return f.Sync() }
