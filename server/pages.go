package server

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/frontend"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// This file serves the web UI (pages.md): the HTML pages, the preview
// document of the Setup page, the embedded static files and the fallback
// that resolves other GET paths to files of the embedded root.

var (
	pagesOnce   sync.Once
	pagesParsed *pageTemplates
	pagesErr    error
)

// sitePages parses the page templates once per process; they are embedded,
// so they cannot change while it runs.
func sitePages() (*pageTemplates, error) {
	pagesOnce.Do(func() {
		pagesParsed, pagesErr = loadPageTemplates()
		if pagesErr == nil && len(FrontendVersion) == 0 {
			FrontendVersion = frontend.Version()
		}
	})
	return pagesParsed, pagesErr
}

// pageRoutes registers the pages, the preview document and the static
// files. The root fallback answers only GET and HEAD requests for paths
// that name an embedded file and passes everything else on, so routes
// registered after it still work; it is best registered last.
func (s *Server) pageRoutes() {
	if _, err := sitePages(); err != nil {
		// The templates are embedded: this is a build defect, caught by tests.
		panic("page templates: " + err.Error())
	}
	a := s.app
	a.Get("/", s.labelingPage)
	a.Get("/welcome", s.sitePage("welcome.html", "welcome"))
	a.Get("/tasks", s.sitePage("tasks.html", "tasks"))
	a.Post("/tasks", s.sitePage("tasks.html", "tasks"))
	a.Get("/setup", s.setupPage)
	a.Get("/import", s.sitePage("import.html", "import"))
	a.Get("/export", s.sitePage("export.html", "export"))
	a.Get("/model", s.sitePage("model.html", "model"))

	a.Get("/render-label-studio", s.renderLabelStudio)
	a.Post("/render-label-studio", s.renderLabelStudio)
	a.Get("/api/render-label-studio", s.renderLabelStudio) // deprecated alias
	a.Post("/api/render-label-studio", s.renderLabelStudio)

	a.Get("/static/*", s.staticFile)
	a.Use(s.rootFile)
}

// pageData is what every site page template receives.
type pageData struct {
	// Title is the document title: the project's config title.
	Title string
	// Header is the text next to the logo.
	Header string
	// Active names the navigation item to highlight.
	Active string
	// CanManageTasks shows the Import item.
	CanManageTasks bool
	// BundleBuilt is false when the binary was built without the widget.
	BundleBuilt bool
	// ProjectJSON is the GET /api/project body, for the first paint.
	ProjectJSON string
	// PageJSON holds page-specific values for the page script.
	PageJSON string
	// Welcome lists the on-boarding steps (welcome page only).
	Welcome []welcomeStep
	// Error is the message of the error page.
	Error string
}

// welcomeStep is one item of the on-boarding checklist (pages.md §3).
type welcomeStep struct {
	Title, Text, Link, Button string
	Done                      bool
}

// newPageData fills the values every page shows from the project.
func (s *Server) newPageData(p *store.Project, cfg *labelconfig.Config, active string) (pageData, error) {
	d := pageData{Active: active, BundleBuilt: frontend.BundleBuilt(), PageJSON: "{}"}
	d.Title = strings.TrimSpace(p.Settings.Title)
	if d.Title == "" {
		d.Title = "Label Studio"
	}
	d.Header = strings.TrimSpace(p.Settings.Description)
	if d.Header == "" || d.Header == "default" {
		d.Header = d.Title
	}
	proj, err := s.projectJSON(p, cfg)
	if err != nil {
		return d, err
	}
	b, err := marshalJSON(proj)
	if err != nil {
		return d, err
	}
	d.ProjectJSON = string(b)
	d.CanManageTasks, _ = proj["can_manage_tasks"].(bool)
	return d, nil
}

// setPageJSON stores page-specific values as one JSON text.
func (d *pageData) setPageJSON(v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return err
	}
	d.PageJSON = string(b)
	return nil
}

// errorPage renders the "Project loading error" page (pages.md §10).
func (s *Server) errorPage(c *fiber.Ctx, err error) error {
	pt, perr := sitePages()
	if perr != nil {
		return err
	}
	status := fiber.StatusInternalServerError
	if st, ok := statusOf(err); ok {
		status = st
	}
	if !errors.Is(err, store.ErrNotFound) {
		s.log.Error("page failed", "path", c.Path(), "err", err)
	}
	return pt.render(c, status, "error.html", pageData{
		Title: "Project loading error", Header: "Label Studio", Error: err.Error(), PageJSON: "{}", ProjectJSON: "{}",
		BundleBuilt: frontend.BundleBuilt(),
	})
}

// sitePage serves a page whose script loads what it needs from the API.
func (s *Server) sitePage(name, active string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, cfg, err := s.project(c)
		if err != nil {
			return s.errorPage(c, err)
		}
		d, err := s.newPageData(p, cfg, active)
		if err != nil {
			return s.errorPage(c, err)
		}
		if name == "welcome.html" {
			d.Welcome = welcomeSteps(p)
		}
		pt, _ := sitePages()
		return pt.render(c, fiber.StatusOK, name, d)
	}
}

// welcomeSteps are the states of api.md §5.1.
func welcomeSteps(p *store.Project) []welcomeStep {
	return []welcomeStep{
		{Title: "Set up the labeling config", Text: "Choose what to label and how: pick a template or write your own config.",
			Link: "setup", Button: "Setup", Done: p.Settings.LabelConfigUpdated},
		{Title: "Import tasks", Text: "Upload files or folders, paste JSON or CSV, or import from a URL.",
			Link: "import", Button: "Import", Done: p.Counters.Tasks > 0},
		{Title: "Label the tasks", Text: "Label one task after another; every submit is saved at once.",
			Link: ".", Button: "Start labeling", Done: p.Counters.CompletedTasks > 0},
		{Title: "Export the completions", Text: "Download the results as JSON, CSV, COCO, Pascal VOC and more.",
			Link: "export", Button: "Export"},
	}
}

// labelingPage: GET / — the labeling stream, or one task with ?task_id=.
func (s *Server) labelingPage(c *fiber.Ctx) error {
	p, cfg, err := s.project(c)
	if err != nil {
		return s.errorPage(c, err)
	}
	if p.Counters.Tasks == 0 {
		return c.Redirect("/welcome", fiber.StatusFound)
	}
	var task any // null in stream mode
	// In stream mode the page carries the first task of the stream, or says
	// that none is left, so that the widget starts without a request. With
	// ML backends that task would wait for their live predictions: the page
	// is then sent at once and asks api/project/next while it loads, as it
	// also does when the store cannot name the next task here.
	var firstTask any
	noTaskLeft := false
	if raw := c.Query("task_id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id < 0 {
			return s.errorPage(c, store.NotFoundf("task_id %q names no task: an id from the task list is expected", raw))
		}
		tk, err := s.st.Task(p.Name, id)
		if err != nil {
			return s.errorPage(c, err)
		}
		task = string(s.withLivePredictions(c, renderTask(tk, renderGet)))
	} else if len(p.Settings.MLBackends) == 0 {
		body, err := s.nextTaskBody(c, p)
		switch {
		case err == nil:
			firstTask = string(body)
		case errors.Is(err, store.ErrNotFound):
			noTaskLeft = true
		}
	}
	d, err := s.newPageData(p, cfg, "labeling")
	if err != nil {
		return s.errorPage(c, err)
	}
	if err := d.setPageJSON(fiber.Map{
		"config":      labelconfig.LineConfig(p.LabelConfig),
		"task":        task,
		"firstTask":   firstTask,
		"noTaskLeft":  noTaskLeft,
		"instruction": p.Settings.Instruction,
		"allowDelete": p.Settings.AllowDeleteCompletions,
	}); err != nil {
		return s.errorPage(c, err)
	}
	pt, _ := sitePages()
	return pt.render(c, fiber.StatusOK, "labeling.html", d)
}

// setupPage: GET /setup — the config editor gets the comment-free config.
func (s *Server) setupPage(c *fiber.Ctx) error {
	p, cfg, err := s.project(c)
	if err != nil {
		return s.errorPage(c, err)
	}
	d, err := s.newPageData(p, cfg, "setup")
	if err != nil {
		return s.errorPage(c, err)
	}
	if err := d.setPageJSON(fiber.Map{"config": labelconfig.FullConfig(p.LabelConfig), "config_revision": p.ConfigRevision}); err != nil {
		return s.errorPage(c, err)
	}
	pt, _ := sitePages()
	return pt.render(c, fiber.StatusOK, "setup.html", d)
}

// previewTask is the fixed frame of the preview task (api.md §3.1).
type previewTask struct {
	ID          int             `json:"id"`
	Data        json.RawMessage `json:"data"`
	Completions json.RawMessage `json:"completions"`
	Predictions json.RawMessage `json:"predictions"`
	Project     int             `json:"project"`
	CreatedAt   string          `json:"created_at"`
	UpdatedAt   string          `json:"updated_at"`
}

// renderData is what the preview document template receives.
type renderData struct {
	Config      string
	TaskJSON    string
	BundleBuilt bool
}

// renderLabelStudio: GET|POST /render-label-studio (api.md §3.1).
func (s *Server) renderLabelStudio(c *fiber.Ctx) error {
	text := c.Query("config")
	if text == "" {
		text = formOrQuery(c, "config")
	}
	text = percentDecode(text)
	if strings.TrimSpace(text) == "" {
		return textError(fiber.StatusExpectationFailed, "No config in POST")
	}
	if _, err := labelconfig.Validate(text); err != nil {
		msgs := []string{err.Error()}
		if le, ok := labelconfig.AsError(err); ok && len(le.Messages) > 0 {
			msgs = le.Messages
		}
		return textError(fiber.StatusBadRequest, "Invalid labeling config: "+strings.Join(msgs, "\n"))
	}
	data, completions, predictions, err := labelconfig.SampleTask(text, labelconfig.EditorPreview)
	if err != nil {
		return textError(fiber.StatusBadRequest, "Invalid labeling config: "+err.Error())
	}
	if completions == nil {
		completions = json.RawMessage("null")
	}
	if predictions == nil {
		predictions = json.RawMessage("null")
	}
	task, err := marshalJSON(previewTask{
		ID: 42, Data: data, Completions: completions, Predictions: predictions, Project: 1,
		CreatedAt: "2019-02-06T14:06:42.000420Z", UpdatedAt: "2019-02-06T14:06:42.000420Z",
	})
	if err != nil {
		return err
	}
	pt, err := sitePages()
	if err != nil {
		return err
	}
	return pt.render(c, fiber.StatusOK, "render.html", renderData{
		Config: labelconfig.LineConfig(text), TaskJSON: string(task), BundleBuilt: frontend.BundleBuilt(),
	})
}

// percentDecode decodes %XX escapes once, as 0.8.1 does with the preview
// config. A '+' stays a '+', and a '%' that starts no valid escape is kept.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// staticFile: GET /static/<path> from the embedded tree.
func (s *Server) staticFile(c *fiber.Ctx) error {
	ok, err := serveEmbedded(c, "static/"+c.Params("*"))
	if err != nil || ok {
		return err
	}
	return envelopeError(fiber.StatusNotFound, "Not found: "+c.Method()+" "+c.Path())
}

// rootFile resolves a GET path that no route matched to a file of the
// embedded static folder, as 0.8.1 served its static folder at the root too
// (api.md §0.1): /samples/sample.jpg is /static/samples/sample.jpg. A file
// at the top of the embedded tree is tried next.
func (s *Server) rootFile(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		return c.Next()
	}
	for _, name := range []string{"static" + c.Path(), c.Path()} {
		ok, err := serveEmbedded(c, name)
		if err != nil || ok {
			return err
		}
	}
	return c.Next()
}
