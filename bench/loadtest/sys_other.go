//go:build !unix

package main

import "os/exec"

// setOwnProcessGroup does nothing on systems without process groups.
func setOwnProcessGroup(*exec.Cmd) {}
