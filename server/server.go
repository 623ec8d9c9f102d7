// Package server is labelstudio's HTTP layer: the Fiber routes and handlers
// of the Label Studio 0.8.1 API, its middleware (auth, limits, errors) and
// import parsing. Handlers translate HTTP to store calls and back.
package server

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/server/cloud"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// APIVersion is the Label Studio API version this server speaks; clients
// compare it, so it stays "0.8.1".
const APIVersion = "0.8.1"

// Default limits.
const (
	// DefaultBodyLimit is the size Fiber reads ahead of a handler; bodies
	// are streamed, and each endpoint caps its own (imports: the import
	// limits; the others: SmallBodyLimit).
	DefaultBodyLimit = 256 << 20
	// DefaultSmallBodyLimit caps bodies of endpoints that are not imports.
	DefaultSmallBodyLimit = 32 << 20
	// DefaultHeavyWork is how many exports, backups and all-task
	// predictions may run at once.
	DefaultHeavyWork = 2
	// DefaultHeavyWait is how long a heavy request waits for its turn.
	DefaultHeavyWait = 30 * time.Second
	// MaxImportTasks is the largest number of tasks one import may hold.
	MaxImportTasks = 250000
)

// Options configure a Server.
type Options struct {
	// Project is the project every request works on (single-project mode).
	Project string
	// MultiSession gives every browser session projects of its own
	// (api.md §7) instead of the one Project.
	MultiSession bool
	// DefaultLabelConfig is the labeling config of projects created for
	// sessions.
	DefaultLabelConfig string
	// Version is the program's build version.
	Version string
	// Username and Password enable HTTP basic auth when Password is set.
	Username, Password string
	// BodyLimit caps request bodies; zero means DefaultBodyLimit.
	BodyLimit int
	// SmallBodyLimit caps bodies of non-import endpoints; zero means
	// DefaultSmallBodyLimit.
	SmallBodyLimit int
	// AllowOrigin is a web origin whose pages may call the API from a
	// browser (CORS); empty means none but our own.
	AllowOrigin string
	// HeavyWork caps exports, backups and all-task predictions running at
	// once; zero means DefaultHeavyWork.
	HeavyWork int
	// HeavyWait is how long a heavy request waits for a slot; zero means
	// DefaultHeavyWait.
	HeavyWait time.Duration
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// ML tunes the calls to ML backends (timeouts, concurrency).
	ML MLOptions
	// UploadDir holds the media files imports upload, one folder per
	// project, served at /data/upload/<name>; empty refuses media uploads.
	UploadDir string
	// LocalFilesRoots are the folders GET /data/<file>?d=<dir> may serve
	// files from (with AllowServingLocalFiles or the project's
	// allow_serving_local_files setting).
	LocalFilesRoots []string
	// AllowServingLocalFiles enables GET /data/<file>?d=<dir> for every
	// project.
	AllowServingLocalFiles bool
	// Import bounds imports; zero fields take the defaults.
	Import ImportLimits
	// Cloud tunes the cloud storages (S3, GCS): environment, endpoints,
	// HTTP client; the zero value uses the process environment.
	Cloud cloud.Options

	// storages is the cloud storage state, set up by storageRoutes.
	storages *storageState
}

// Server serves the Label Studio API over a store.
type Server struct {
	st   *store.Store
	opts Options
	app  *fiber.App
	log  *slog.Logger

	cfgMu    sync.Mutex
	cfgCache map[string]cachedConfig

	// secret signs session cookies (multi-session mode).
	secret []byte
	// heavy holds a token per running heavy request.
	heavy chan struct{}

	// mlSvc is the ML backends' client and state, made on first use.
	mlOnce sync.Once
	mlSvc  *mlService
}

type cachedConfig struct {
	text string
	cfg  *labelconfig.Config
	err  error
}

// New builds a server with every route registered.
func New(st *store.Store, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Username == "" {
		opts.Username = "ls"
	}
	if opts.HeavyWork <= 0 {
		opts.HeavyWork = DefaultHeavyWork
	}
	s := &Server{st: st, opts: opts, log: opts.Logger, cfgCache: map[string]cachedConfig{}, heavy: make(chan struct{}, opts.HeavyWork)}
	if opts.MultiSession {
		secret, err := st.Secret("session")
		if err != nil {
			// Without a stored secret sessions last as long as the process.
			opts.Logger.Warn("no stored session secret; sessions end with the process", "err", err)
			secret = []byte(store.NewUUID() + store.NewUUID())
		}
		s.secret = secret
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "labelstudio",
		DisableStartupMessage: true,
		StrictRouting:         false,
		CaseSensitive:         true,
		BodyLimit:             s.bodyLimit(),
		// Long query strings (a config in /render-label-studio?config=, a
		// long fields list) fit in the header buffer.
		ReadBufferSize: 64 << 10,
		ReadTimeout:    5 * time.Minute,
		WriteTimeout:   30 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		JSONEncoder:    marshalJSON,
		JSONDecoder:    json.Unmarshal,
		ErrorHandler:   s.errorHandler,
		// Imports read the body as a stream (import_handler.go); the
		// other endpoints get it buffered (bufferSmallBody).
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
	})
	s.routes()
	return s
}

// App returns the Fiber application, for tests and for listening.
func (s *Server) App() *fiber.App { return s.app }

// Shutdown stops accepting requests and waits for running ones.
func (s *Server) Shutdown(timeout time.Duration) error {
	err := s.app.ShutdownWithTimeout(timeout)
	if s.opts.storages != nil && s.opts.storages.m != nil {
		s.opts.storages.m.Close()
	}
	return err
}

func (s *Server) bodyLimit() int {
	if s.opts.BodyLimit > 0 {
		return s.opts.BodyLimit
	}
	return DefaultBodyLimit
}

func (s *Server) smallBodyLimit() int {
	if s.opts.SmallBodyLimit > 0 {
		return s.opts.SmallBodyLimit
	}
	return DefaultSmallBodyLimit
}

func (s *Server) routes() {
	a := s.app
	a.Use(s.recoverPanics)
	a.Use(s.cors)
	a.Use(s.basicAuth)
	a.Use(s.originGuard)
	a.Use(s.limitHeavy)
	a.Use(s.limitSmallBodies)
	a.Use(s.sessions)

	a.Get("/version", s.version)
	a.Get("/api/health", s.health)
	a.Get("/api/states", s.states)

	a.Get("/api/project", s.getProject)
	a.Post("/api/project", s.postProject)
	a.Patch("/api/project", s.patchProject)
	a.Get("/api/projects", s.listProjects)
	a.Delete("/api/projects/:uuid", s.deleteProject)
	a.Patch("/api/projects/:uuid", s.updateProject)
	a.Get("/api/project-switch", s.projectSwitch)
	a.Post("/api/project-switch", s.projectSwitch)
	a.Post("/api/project/config", s.saveConfig)
	a.Post("/api/project/import", s.importTasks)
	a.Get("/api/project/export", s.export)
	a.Get("/api/project/next", s.nextTask)

	a.Get("/api/tasks", s.listTasks)
	a.Delete("/api/tasks", s.deleteAllTasks)
	a.Delete("/api/tasks/delete", s.deleteAllTasks) // deprecated alias
	a.Get("/api/tasks/:id", s.getTask)
	a.Delete("/api/tasks/:id", s.deleteTask)
	a.Post("/api/tasks/:id/completions", s.createCompletion)
	a.Delete("/api/tasks/:id/completions", s.deleteTaskCompletions)
	a.Patch("/api/tasks/:id/completions/:cid", s.updateCompletion)
	a.Delete("/api/tasks/:id/completions/:cid", s.deleteCompletion)
	a.Post("/api/tasks/:id/cancel", s.cancelTask) // deprecated alias

	a.Post("/api/validate-config", s.validateConfig)
	a.Get("/api/import-example", s.importExample)
	a.Post("/api/import-example", s.importExample)
	a.Get("/api/import-example-file", s.importExampleFile)
	a.Get("/api/templates", s.listTemplates)
	a.Get("/samples/time-series.csv", s.timeSeriesCSV)
	a.Get("/static/samples/:name", s.sampleFile)

	a.Get("/api/completions", s.listCompletions)
	a.Get("/api/backup", s.backup)
	a.Delete("/api/completions", s.deleteAllCompletions)

	// Deprecated aliases of 0.8.1 (api.md §6).
	a.Post("/api/save-config", s.saveConfig)
	a.Post("/api/import", s.importTasks)
	a.Get("/api/export", s.export)
	a.Get("/api/projects/1/next", s.nextTask)
	a.Get("/api/projects/1/completions_ids", s.completionIDs)
	a.Delete("/api/project/completions", s.deleteAllCompletions)
	a.Get("/api/projects/1/expert_instruction", s.expertInstruction)
	s.storageRoutes()
	s.pageRoutes()
	s.modelRoutes()
	s.dataRoutes()
}

// recoverPanics turns a panic in a handler into a 500 envelope, logged, so
// that one bad request never takes the server down.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// basicAuth requires HTTP basic credentials on every route when a password
// is configured (api.md §0.2). Bundled static assets stay public.
func (s *Server) basicAuth(c *fiber.Ctx) error {
	if s.opts.Password == "" || strings.HasPrefix(c.Path(), "/static/") {
		return c.Next()
	}
	h := c.Get(fiber.HeaderAuthorization)
	if strings.HasPrefix(h, "Basic ") {
		if raw, err := base64.StdEncoding.DecodeString(h[len("Basic "):]); err == nil {
			user, pass, _ := strings.Cut(string(raw), ":")
			okUser := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.Username)) == 1
			okPass := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Password)) == 1
			if okUser && okPass {
				return c.Next()
			}
		}
	}
	c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="Login Required"`)
	return textError(fiber.StatusUnauthorized, "Could not verify your access level for that URL.\nYou have to login with proper credentials")
}

// limitSmallBodies refuses large bodies on every endpoint that is not an
// import.
func (s *Server) limitSmallBodies(c *fiber.Ctx) error {
	if err := s.bufferSmallBody(c); err != nil {
		return err
	}
	if c.Request().Header.ContentLength() > s.smallBodyLimit() && !isImportPath(c.Path()) {
		return envelopeError(fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body is too large: the limit is %s for %s", humanBytes(int64(s.smallBodyLimit())), c.Path()))
	}
	return c.Next()
}

func isImportPath(p string) bool {
	p = strings.TrimSuffix(p, "/")
	return p == "/api/project/import" || p == "/api/import"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// project loads the request's project and its parsed labeling config. A
// config that does not parse (it could only come from an older version or a
// hand-edited database) gives a nil config, not an error.
func (s *Server) project(c *fiber.Ctx) (*store.Project, *labelconfig.Config, error) {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return nil, nil, err
	}
	return p, s.parsedConfig(p), nil
}

func (s *Server) parsedConfig(p *store.Project) *labelconfig.Config {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	if cc, ok := s.cfgCache[p.Name]; ok && cc.text == p.LabelConfig {
		return cc.cfg
	}
	cfg, err := labelconfig.Parse(p.LabelConfig)
	if err != nil {
		cfg = nil
	}
	s.cfgCache[p.Name] = cachedConfig{text: p.LabelConfig, cfg: cfg, err: err}
	return cfg
}

// bodyJSON reads the request body as JSON into v, with a clear 400.
func bodyJSON(c *fiber.Ctx, v any) error {
	b, err := jsonBody(c, "a JSON body")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return envelopeError(fiber.StatusBadRequest, "request body is not valid JSON: "+err.Error())
	}
	return nil
}

// jsonBody returns the request body for a JSON endpoint, refusing an empty
// body and text that is not UTF-8 (which JSON must be).
func jsonBody(c *fiber.Ctx, what string) ([]byte, error) {
	b := c.Body()
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, envelopeError(fiber.StatusBadRequest, "request body is empty: "+what+" is expected")
	}
	if !utf8.Valid(b) {
		return nil, envelopeError(fiber.StatusBadRequest, "request body is not valid UTF-8: JSON text must be UTF-8")
	}
	return b, nil
}

// formOrQuery returns a field from the query string, else from a form body.
func formOrQuery(c *fiber.Ctx, key string) string {
	if v := c.Query(key); v != "" {
		return v
	}
	ct := string(c.Request().Header.ContentType())
	if strings.HasPrefix(ct, fiber.MIMEApplicationForm) || strings.HasPrefix(ct, fiber.MIMEMultipartForm) {
		return c.FormValue(key)
	}
	return ""
}

// marshalJSON encodes v without HTML escaping: configs and instructions are
// XML and HTML, and clients compare them with what they sent.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
