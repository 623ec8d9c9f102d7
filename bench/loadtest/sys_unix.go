//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// setOwnProcessGroup puts the child in its own process group, so that a
// Ctrl-C in the terminal reaches only the harness, which then stops the
// server with SIGTERM and removes its data.
func setOwnProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// fdatasync flushes f's data (not its metadata) to disk, as bbolt does.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
