package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"labelstudio/store"
)

// runProject is `labelstudio project list|delete NAME|rename OLD NEW`,
// which manages the projects of a data directory while no server runs.
func runProject(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := newFlagSet("project", &o, stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage:\n  labelstudio project list [--root-dir DIR]\n  labelstudio project delete NAME [--root-dir DIR]\n  labelstudio project rename OLD NEW [--root-dir DIR]\n")
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return 2
	}
	want := map[string]int{"list": 1, "delete": 2, "rename": 3}
	if len(pos) == 0 || want[pos[0]] != len(pos) {
		fs.Usage()
		return 2
	}
	dir, err := dataDir(o.rootDir)
	if err != nil {
		fmt.Fprintf(stderr, "labelstudio project: %v\n", err)
		return 1
	}
	st, err := store.Open(filepath.Join(dir, dbFileName), store.Options{Timeout: time.Second})
	if err != nil {
		fmt.Fprintf(stderr, "labelstudio project: %v (stop the server first)\n", err)
		return 1
	}
	defer st.Close()
	switch pos[0] {
	case "list":
		ps, err := st.Projects()
		if err != nil {
			fmt.Fprintf(stderr, "labelstudio project: %v\n", err)
			return 1
		}
		for _, p := range ps {
			fmt.Fprintf(stdout, "%s\t%s\t%d tasks\t%s\n", p.Name, p.UUID, p.Tasks, p.Description)
		}
	case "delete":
		err = st.DeleteProject(pos[1])
		if err == nil {
			fmt.Fprintf(stdout, "Project %q deleted.\n", pos[1])
		}
	case "rename":
		err = st.RenameProject(pos[1], pos[2])
		if err == nil {
			fmt.Fprintf(stdout, "Project %q is now %q.\n", pos[1], pos[2])
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "labelstudio project: %v\n", err)
		return 1
	}
	return 0
}
