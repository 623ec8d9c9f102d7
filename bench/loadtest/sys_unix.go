//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// setOwnProcessGroup puts the child in its own process group, so that a
// Ctrl-C in the terminal reaches only the harness, which then stops the
// server with SIGTERM and removes its data.
func setOwnProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
