// Command labelstudio is a data-labeling tool in one binary: it serves the
// labeling UI and the Label Studio 0.8.1 HTTP API over an embedded database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	json "github.com/goccy/go-json"
	"github.com/pkg/browser"

	"labelstudio/server"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
	"labelstudio/store/labelconfig/templates"
)

// Version is the build version, set with -ldflags "-X main.Version=...".
var Version = "dev"

// dbFileName is the database file inside the data directory.
const dbFileName = "labelstudio.db"

// defaultLabelConfig is the labeling config of a new project (config.md §9).
const defaultLabelConfig = `<View>
  <Header value="Select label and start to click on image"/>
  <Image name="image" value="$image"/>
  <PolygonLabels name="label" toName="image" strokeWidth="3" pointSize="small" opacity="0.9">
    <Label value="Airplane" background="red"/>
    <Label value="Car" background="blue"/>
  </PolygonLabels>
</View>
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `labelstudio — label data in your browser, drive it over the Label Studio 0.8.1 API.

Usage:
  labelstudio                         start the default project and open the browser
  labelstudio start [PROJECT] [options]
  labelstudio init PROJECT [options]
  labelstudio start-multi-session [options]   every browser session gets projects of its own
  labelstudio import PROJECT FILE... [options] import files without a server (labelstudio import -h)
  labelstudio migrate DIR [--project NAME] [--force]   import a Label Studio 0.8 project folder
  labelstudio export PROJECT --format F [-o FILE]   write an export without a server
  labelstudio project list|delete NAME|rename OLD NEW   manage the projects of the data directory
  labelstudio backup FILE             write a consistent copy of the database
  labelstudio restore FILE            replace the database with a checked backup
  labelstudio version

Options of start and init:
  --root-dir DIR          data directory (default $LABELSTUDIO_HOME, else the user config dir)
  --init                  (start) create the project first
  --force                 (init) re-create an existing project, deleting its tasks
  --host H                address to listen on (default 127.0.0.1)
  -p, --port N            port (default 8080; the next free one is taken if busy)
  -b, --no-browser        do not open the browser
  -c, --config FILE       a config.json whose keys are applied to the project
  -l, --label-config FILE labeling config (XML) for the project
  --template NAME         labeling config from the built-in gallery (GET /api/templates lists them)
  --sampling MODE         sequential, uniform, prediction-score-min or prediction-score-max
  --ml-backends URL,...   ML backends (URL or name=URL), comma-separated or repeated
  --username U --password P   require HTTP basic auth
  --log-level L           debug, info, warn or error (default info)
  --cert FILE --key FILE  serve HTTPS with this certificate and key
  --allow-origin ORIGIN   let pages of ORIGIN call the API from a browser (CORS)
  -i, --input-path PATH   (init, start) initial tasks; start adds only tasks not there yet
  --input-format F        json (default), json-dir, text, text-dir, image-dir or audio-dir
  --allow-serving-local-files   serve files of local-files roots at /data/<file>?d=<dir>
  --local-files-root DIR  a folder those URLs may serve from (repeatable; image-dir and
                          audio-dir folders are registered by themselves)
  --max-import-tasks N    most tasks one import through the API may hold (default 250000
                          as Label Studio 0.8.1; 0: no cap)
`

// options are the parsed command-line options of start and init.
type options struct {
	project     string
	rootDir     string
	init        bool
	force       bool
	host        string
	port        int
	noBrowser   bool
	configFile  string
	labelConfig string
	template    string
	sampling    string
	mlBackends  mlBackendList
	username    string
	password    string
	logLevel    string
	cert, key   string
	allowOrigin string
	imp         importFlags // -i, --input-format, local files (main_import.go)
}

func newFlagSet(name string, o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	fs.StringVar(&o.rootDir, "root-dir", "", "data directory")
	fs.BoolVar(&o.init, "init", false, "create the project first")
	fs.BoolVar(&o.force, "force", false, "re-create an existing project")
	fs.StringVar(&o.host, "host", "127.0.0.1", "address to listen on")
	fs.IntVar(&o.port, "port", 8080, "port")
	fs.IntVar(&o.port, "p", 8080, "port")
	fs.BoolVar(&o.noBrowser, "no-browser", false, "do not open the browser")
	fs.BoolVar(&o.noBrowser, "b", false, "do not open the browser")
	fs.StringVar(&o.configFile, "config", "", "config.json to apply")
	fs.StringVar(&o.configFile, "c", "", "config.json to apply")
	fs.StringVar(&o.labelConfig, "label-config", "", "labeling config file")
	fs.StringVar(&o.labelConfig, "l", "", "labeling config file")
	fs.StringVar(&o.template, "template", "", "labeling config template from the gallery")
	fs.StringVar(&o.sampling, "sampling", "", "sampling mode")
	fs.Var(&o.mlBackends, "ml-backends", "ML backends: URL or name=URL")
	fs.StringVar(&o.username, "username", "", "basic auth user")
	fs.StringVar(&o.password, "password", "", "basic auth password")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level")
	fs.StringVar(&o.cert, "cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&o.key, "key", "", "TLS private key file (PEM)")
	fs.StringVar(&o.allowOrigin, "allow-origin", "", "web origin allowed to call the API from a browser (CORS), e.g. https://tool.example")
	addImportFlags(fs, &o.imp)
	return fs
}

// parseArgs parses flags and at most one positional project name, in any
// order.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "start"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version", "--version":
		fmt.Fprintf(stdout, "labelstudio %s (Label Studio API %s)\n", Version, server.APIVersion)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "import":
		return runImport(args, stdout, stderr)
	case "export": // main_export.go
		return runExport(args, stdout, stderr)
	case "project": // main_project.go
		return runProject(args, stdout, stderr)
	case "migrate", "backup", "restore": // main_admin.go
		return runAdmin(cmd, args, stdout, stderr)
	case "start", "init", "start-multi-session":
	default:
		fmt.Fprintf(stderr, "labelstudio: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	var o options
	fs := newFlagSet(cmd, &o, stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(pos) > 1 {
		fmt.Fprintf(stderr, "labelstudio %s: one project name expected, got %q\n", cmd, pos)
		return 2
	}
	o.project = "default"
	if cmd == "start-multi-session" {
		if len(pos) > 0 {
			fmt.Fprintln(stderr, "labelstudio start-multi-session: takes no project name (every browser session gets its own projects)")
			return 2
		}
		o.project = ""
	} else if len(pos) == 1 {
		o.project = pos[0]
	} else if cmd == "init" {
		fmt.Fprintln(stderr, "labelstudio init: a project name is required")
		return 2
	}
	logger := newLogger(stderr, o.logLevel)
	if err := execute(cmd, o, stdout, logger); err != nil {
		fmt.Fprintf(stderr, "labelstudio: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// dataDir picks the data directory: --root-dir, $LABELSTUDIO_HOME, or the
// user config directory.
func dataDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if env := os.Getenv("LABELSTUDIO_HOME"); env != "" {
		return env, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: set --root-dir or LABELSTUDIO_HOME (%w)", err)
	}
	return filepath.Join(dir, "labelstudio"), nil
}

func execute(cmd string, o options, stdout io.Writer, logger *slog.Logger) error {
	dir, err := dataDir(o.rootDir)
	if err != nil {
		return err
	}
	st, err := store.Open(filepath.Join(dir, dbFileName), store.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, store.ErrLocked) && cmd != "init" && openRunning(dir, o.noBrowser, stdout) {
			return nil
		}
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%w: is labelstudio already running on %s? Stop it or use another --root-dir", err, dir)
		}
		return err
	}
	defer st.Close()
	o.imp.dataDir = dir
	if cmd == "start-multi-session" {
		return serve(st, o, stdout, logger, true)
	}
	if err := setupProject(st, cmd, o, stdout); err != nil {
		return err
	}
	if err := o.imp.prepare(st, cmd, o, stdout); err != nil {
		return err
	}
	if cmd == "init" {
		return nil
	}
	return serve(st, o, stdout, logger, false)
}

// setupProject creates the project when needed and applies -c, -l and the
// other settings flags.
func setupProject(st *store.Store, cmd string, o options, stdout io.Writer) error {
	settings := store.DefaultSettings()
	labelCfg := defaultLabelConfig
	if o.configFile != "" {
		b, err := os.ReadFile(o.configFile)
		if err != nil {
			return fmt.Errorf("read --config: %w", err)
		}
		if err := settings.Apply(b); err != nil {
			return fmt.Errorf("--config %s: %w", o.configFile, err)
		}
		if lc, ok := settings.Extra["label_config"]; ok {
			delete(settings.Extra, "label_config")
			text, err := labelConfigFromSetting(lc, filepath.Dir(o.configFile))
			if err != nil {
				return err
			}
			if text != "" {
				labelCfg = text
			}
		}
	}
	if o.template != "" {
		tp, err := templates.Get(o.template)
		if err != nil {
			return fmt.Errorf("--template: %w", err)
		}
		labelCfg = tp.Config
	}
	if o.labelConfig != "" {
		b, err := os.ReadFile(o.labelConfig)
		if err != nil {
			return fmt.Errorf("read --label-config: %w", err)
		}
		labelCfg = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	if labelCfg != defaultLabelConfig {
		if _, err := labelconfig.Validate(labelCfg); err != nil {
			return fmt.Errorf("the labeling config is invalid: %w", err)
		}
	}
	if o.sampling != "" {
		if !store.ValidSampling(o.sampling) {
			return fmt.Errorf("unknown --sampling %q: use sequential, uniform, prediction-score-min or prediction-score-max", o.sampling)
		}
		settings.Sampling = o.sampling
	}
	mlBackends, err := o.mlBackends.parse(o.project)
	if err != nil {
		return err
	}
	if mlBackends != nil {
		settings.MLBackends = mlBackends
	}
	if cmd == "init" && o.force {
		if err := st.DeleteProject(o.project); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	_, created, err := st.EnsureProject(o.project, settings, labelCfg)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "Project %q created in %s\n", o.project, st.Path())
		return nil
	}
	if cmd == "init" {
		return fmt.Errorf("project %q already exists in %s: use --force to re-create it", o.project, st.Path())
	}
	// An existing project: apply what the command line names.
	if o.configFile != "" || o.sampling != "" || mlBackends != nil {
		raw, _ := os.ReadFile(o.configFile)
		if _, err := st.UpdateSettings(o.project, func(s *store.Settings) error {
			if len(raw) > 0 {
				if err := s.Apply(raw); err != nil {
					return err
				}
				delete(s.Extra, "label_config")
			}
			if o.sampling != "" {
				s.Sampling = o.sampling
			}
			if mlBackends != nil {
				s.MLBackends = mlBackends
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if o.labelConfig != "" || o.template != "" || labelCfg != defaultLabelConfig {
		cfg, err := labelconfig.Validate(labelCfg)
		if err != nil {
			return fmt.Errorf("the labeling config is invalid: %w", err)
		}
		err = st.SetLabelConfig(o.project, labelCfg, func(f store.Facts) error {
			return server.CheckCompatible(cfg, f)
		})
		if err != nil {
			return fmt.Errorf("the labeling config does not fit the project's tasks and completions: %w", err)
		}
	}
	return nil
}

// labelConfigFromSetting reads config.json's label_config: inline XML or a
// path (relative to the config file).
func labelConfigFromSetting(raw []byte, base string) (string, error) {
	var v *string
	if err := json.Unmarshal(raw, &v); err != nil || v == nil || *v == "" {
		return "", nil
	}
	text := strings.TrimSpace(*v)
	if strings.HasPrefix(text, "<") {
		return *v, nil
	}
	p := text
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("label_config of --config: %w", err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}

// listen opens the port, or the next free one when it is taken.
func listen(host string, port int, stdout io.Writer) (net.Listener, error) {
	var firstErr error
	for p := port; p < port+50 && p <= 65535; p++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			if p != port {
				fmt.Fprintf(stdout, "Port %d is taken; using %d instead.\n", port, p)
			}
			return ln, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if port == 0 {
			break
		}
	}
	return nil, fmt.Errorf("cannot listen on %s port %d or the next ones: %w", host, port, firstErr)
}

func serve(st *store.Store, o options, stdout io.Writer, logger *slog.Logger, multi bool) error {
	srv := server.New(st, server.Options{
		Project:                o.project,
		MultiSession:           multi,
		DefaultLabelConfig:     defaultLabelConfig,
		Version:                Version,
		Username:               o.username,
		Password:               o.password,
		AllowOrigin:            o.allowOrigin,
		Logger:                 logger,
		UploadDir:              o.imp.uploadDir(),
		LocalFilesRoots:        o.imp.roots,
		AllowServingLocalFiles: o.imp.allowLocal,
		Import:                 o.imp.limits(),
	})
	ln, err := listen(o.host, o.port, stdout)
	if err != nil {
		return err
	}
	scheme := "http"
	if o.cert != "" || o.key != "" {
		if ln, err = tlsListener(ln, o.cert, o.key); err != nil {
			return err
		}
		scheme = "https"
	}
	if !isLoopback(o.host) && o.password == "" {
		logger.Warn("LISTENING ON A NETWORK ADDRESS WITHOUT A PASSWORD: anyone who can reach " + o.host +
			" can read and change every project. Use --username and --password, or --host 127.0.0.1.")
	}
	host := o.host
	if host == "0.0.0.0" || host == "::" || host == "" {
		host = "localhost"
	}
	port := ln.Addr().(*net.TCPAddr).Port
	url := fmt.Sprintf("%s://%s/", scheme, net.JoinHostPort(host, strconv.Itoa(port)))
	if dir, err := dataDir(o.rootDir); err == nil {
		if err := writeAddrFile(dir, url); err != nil {
			logger.Warn("cannot record the address for a second launch", "err", err)
		}
		defer removeAddrFile(dir)
	}
	if multi {
		fmt.Fprintf(stdout, "labelstudio %s is serving every browser session its own projects at %s\n", Version, url)
	} else {
		fmt.Fprintf(stdout, "labelstudio %s is serving project %q at %s\n", Version, o.project, url)
	}
	if !o.noBrowser {
		// The page the browser is about to ask for needs the assets'
		// hashes and derived files; without a browser the first page
		// request makes them, and an API client's first imports do
		// not share the CPU with that work.
		go server.WarmAssets()
		browser.Stdout, browser.Stderr = io.Discard, io.Discard
		if err := browser.OpenURL(url); err != nil {
			logger.Warn("could not open the browser; open the URL by hand", "url", url, "err", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if stopProfile := startCPUProfile(logger); stopProfile != nil {
		defer stopProfile()
	}
	if floor, on := heapFloorFromEnv(); on {
		defer startGCTuner(floor)()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.App().Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "Shutting down…")
	if err := srv.Shutdown(10 * time.Second); err != nil {
		logger.Warn("shutdown", "err", err)
	}
	return nil
}

// mlBackendList is the --ml-backends flag: URLs or name=URL, comma- or
// space-separated, the flag repeatable.
type mlBackendList []string

func (l *mlBackendList) String() string { return strings.Join(*l, ",") }

func (l *mlBackendList) Set(v string) error {
	*l = append(*l, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })...)
	return nil
}

// parse turns the flag into backend records (nil when the flag is absent).
func (l mlBackendList) parse(project string) ([]store.MLBackend, error) {
	var out []store.MLBackend
	for _, spec := range l {
		b, err := server.ParseMLBackend(project, spec)
		if err != nil {
			return nil, fmt.Errorf("--ml-backends: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// startCPUProfile writes a CPU profile of the whole run to the file named
// by $LABELSTUDIO_CPUPROFILE, for performance work (see bench/README.md);
// the returned function ends it. It returns nil when the variable is unset.
func startCPUProfile(logger *slog.Logger) func() {
	path := os.Getenv("LABELSTUDIO_CPUPROFILE")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		logger.Warn("no CPU profile", "err", err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		logger.Warn("no CPU profile", "err", err)
		return nil
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
