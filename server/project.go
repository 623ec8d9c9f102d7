package server

import (
	"errors"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// availableStorages is the fixed list of storage kinds of api.md §4.1.
var availableStorages = [][2]string{
	{"s3", "Amazon S3"}, {"s3-completions", "Amazon S3"},
	{"gcs", "Google Cloud Storage"}, {"gcs-completions", "Google Cloud Storage"},
	{"completions-dir", `Local [completions are in "completions" directory]`},
	{"tasks-json", `Local [loading tasks from "tasks.json" file]`},
}

// readablePath describes where a storage keeps its data.
func (s *Server) readablePath(p *store.Project, ref store.StorageRef) string {
	switch ref.Type {
	case "s3", "s3-completions", "gcs", "gcs-completions":
		scheme := "s3://"
		if strings.HasPrefix(ref.Type, "gcs") {
			scheme = "gs://"
		}
		return scheme + ref.Path
	case "completions-dir":
		return s.st.Path() + " (project " + p.Name + ", completions)"
	}
	return s.st.Path() + " (project " + p.Name + ", tasks)"
}

func isCloud(t string) bool {
	switch t {
	case "s3", "s3-completions", "gcs", "gcs-completions":
		return true
	}
	return false
}

// projectJSON serializes a project as GET /api/project does (api.md §4.1).
func (s *Server) projectJSON(p *store.Project, cfg *labelconfig.Config) (fiber.Map, error) {
	pub, err := p.Settings.Public()
	if err != nil {
		return nil, err
	}
	var config map[string]json.RawMessage
	if err := json.Unmarshal(pub, &config); err != nil {
		return nil, err
	}
	for _, key := range []string{"source", "target"} {
		if raw, ok := config[key]; ok {
			config[key] = redactParams(raw)
		}
	}
	// The 0.8.1 config.json names its files; ours live in the database.
	config["label_config"] = json.RawMessage(`"config.xml"`)
	config["input_path"] = json.RawMessage(`"tasks.json"`)
	config["output_dir"] = json.RawMessage(`"completions"`)
	dataTypes := json.RawMessage(`{}`)
	if cfg != nil {
		dataTypes = cfg.DataTypesJSON()
	}
	canTasks := !isCloud(p.Settings.Source.Type)
	canCompletions := !isCloud(p.Settings.Target.Type)
	return fiber.Map{
		"project_name":           p.Name,
		"task_count":             p.Counters.Tasks,
		"completion_count":       p.Counters.CompletedTasks,
		"config":                 config,
		"instruction":            p.Settings.Instruction,
		"can_manage_tasks":       canTasks,
		"can_manage_completions": canCompletions,
		"can_delete_tasks":       canTasks && canCompletions,
		"source_storage":         fiber.Map{"readable_path": s.storagePath(p, p.Settings.Source)},
		"target_storage":         fiber.Map{"readable_path": s.storagePath(p, p.Settings.Target)},
		"available_storages":     availableStorages,
		"source_syncing":         s.sourceSyncing(p.Name),
		"target_syncing":         s.targetSyncing(p.Name),
		"data_types":             dataTypes,
		"label_config_line":      labelconfig.LineConfig(p.LabelConfig),
		"label_config_revision":  p.ConfigRevision,
		"export_formats":         exportFormats(cfg),
		// Inverted in 0.8.1 and kept so: true on a single-project server.
		"multi_session_mode": !s.opts.MultiSession,
	}, nil
}

func (s *Server) sendProject(c *fiber.Ctx, status int) error {
	p, cfg, err := s.project(c)
	if err != nil {
		return err
	}
	body, err := s.projectJSON(p, cfg)
	if err != nil {
		return err
	}
	return c.Status(status).JSON(body)
}

// getProject: GET /api/project.
func (s *Server) getProject(c *fiber.Ctx) error { return s.sendProject(c, fiber.StatusOK) }

// postProject: POST /api/project. With ?new= it would create a project of a
// multi-session user; a single-project server refuses that.
func (s *Server) postProject(c *fiber.Ctx) error {
	if c.Query("new") != "" {
		return s.newProject(c)
	}
	return s.sendProject(c, fiber.StatusOK)
}

// patchProject: PATCH /api/project. Keys it does not know are ignored.
func (s *Server) patchProject(c *fiber.Ctx) error {
	var body map[string]json.RawMessage
	if err := bodyJSON(c, &body); err != nil {
		return err
	}
	if body == nil {
		return envelopeError(fiber.StatusBadRequest, "request body must be a JSON object")
	}
	if raw, ok := body["ml_backend"]; ok {
		if err := s.connectMLBackend(c, raw); err != nil {
			return err
		}
	}
	return s.sendProject(c, fiber.StatusCreated)
}

// saveConfig: POST /api/project/config (form field or JSON body).
func (s *Server) saveConfig(c *fiber.Ctx) error {
	text, ok := configFromRequest(c)
	if !ok {
		return jsonError(fiber.StatusBadRequest, fiber.Map{"label_config": []string{"label_config is required: send it as a form field or as JSON {\"label_config\": \"<View>...</View>\"}"}}, "no label_config")
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	cfg, err := labelconfig.Validate(text)
	if err != nil {
		return configError(err)
	}
	base, err := configRevision(c)
	if err != nil {
		return err
	}
	err = s.st.SetLabelConfigAt(s.projectName(c), text, base, func(f store.Facts) error {
		return CheckCompatible(cfg, f)
	})
	var cc *store.ConfigConflict
	if errors.As(err, &cc) {
		return jsonError(fiber.StatusConflict, fiber.Map{
			"label_config": []string{cc.Error()}, "detail": cc.Error(), "revision": cc.Revision, "current": cc.Current,
		}, cc.Error())
	}
	if err != nil {
		return s.compatResponse(c, err)
	}
	c.Status(fiber.StatusCreated)
	return nil
}

// configRevision reads the optional revision of the config the editor
// started from (form field or JSON key "revision"); -1 when absent, as
// 0.8.1 clients send none.
func configRevision(c *fiber.Ctx) (int64, error) {
	var v string
	ct := string(c.Request().Header.ContentType())
	if strings.Contains(ct, fiber.MIMEApplicationJSON) {
		var body struct {
			Revision json.RawMessage `json:"revision"`
		}
		if json.Unmarshal(c.Body(), &body) == nil && len(body.Revision) > 0 && string(body.Revision) != "null" {
			v = strings.Trim(string(body.Revision), `"`)
		}
	} else if strings.HasPrefix(ct, fiber.MIMEApplicationForm) || strings.HasPrefix(ct, fiber.MIMEMultipartForm) {
		v = c.FormValue("revision")
	}
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, jsonError(fiber.StatusBadRequest, fiber.Map{"label_config": []string{"revision must be a non-negative integer"}}, "bad revision")
	}
	return n, nil
}

// configFromRequest reads label_config from a form field or a JSON body.
func configFromRequest(c *fiber.Ctx) (string, bool) {
	ct := string(c.Request().Header.ContentType())
	if strings.Contains(ct, fiber.MIMEApplicationJSON) {
		var body struct {
			LabelConfig *string `json:"label_config"`
		}
		if json.Unmarshal(c.Body(), &body) != nil || body.LabelConfig == nil {
			return "", false
		}
		return *body.LabelConfig, true
	}
	if strings.HasPrefix(ct, fiber.MIMEApplicationForm) || strings.HasPrefix(ct, fiber.MIMEMultipartForm) {
		if v := c.FormValue("label_config"); v != "" {
			return v, true
		}
	}
	return "", false
}

// CheckCompatible checks a new config against a project's tasks and
// completions (config.md §8). The error is a *labelconfig.CompatError that
// lists every problem.
func CheckCompatible(cfg *labelconfig.Config, f store.Facts) error {
	results := make([]labelconfig.ResultKey, len(f.Triples))
	for i, t := range f.Triples {
		results[i] = labelconfig.ResultKey{FromName: t.FromName, ToName: t.ToName, Type: t.Type}
	}
	return cfg.CheckCompatibility(labelconfig.Stored{
		HasTasks: f.Tasks > 0,
		DataKeys: f.CommonDataKeys,
		Results:  results,
		Labels:   f.LabelsByFromName,
	})
}

// nextTask: GET /api/project/next.
func (s *Server) nextTask(c *fiber.Ctx) error {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return err
	}
	body, err := s.nextTaskBody(c, p)
	if errors.Is(err, store.ErrNotFound) {
		return c.SendStatus(fiber.StatusNotFound)
	}
	if err != nil {
		return err
	}
	return sendRawJSON(c, fiber.StatusOK, body)
}

// nextTaskBody is the body of GET /api/project/next for project p: the
// next task to label with its URIs resolved and live predictions added. It
// returns an error wrapping store.ErrNotFound when no task is left.
func (s *Server) nextTaskBody(c *fiber.Ctx, p *store.Project) ([]byte, error) {
	tk, err := s.st.NextTask(p.Name, p.Settings.Sampling)
	if err != nil {
		return nil, err
	}
	return s.withLivePredictions(c, s.resolveURIs(c, renderTask(tk, renderGet))), nil
}

// export: GET /api/project/export. Without a format it answers the project
// JSON, as the public API documentation describes.
func (s *Server) export(c *fiber.Ctx) error {
	format := c.Query("format")
	if format == "" {
		return s.sendProject(c, fiber.StatusOK)
	}
	return s.exportZip(c, format)
}

// expertInstruction: GET /api/projects/1/expert_instruction (deprecated).
func (s *Server) expertInstruction(c *fiber.Ctx) error {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(p.Settings.Instruction)
}

// secretWords mark storage parameters that hold credentials.
var secretWords = []string{"secret", "password", "token", "credential", "private", "access_key", "session"}

// redactParams hides credential values in a storage's params, so that
// GET /api/project never shows them.
func redactParams(raw json.RawMessage) json.RawMessage {
	var ref map[string]json.RawMessage
	if json.Unmarshal(raw, &ref) != nil {
		return raw
	}
	var params map[string]json.RawMessage
	if json.Unmarshal(ref["params"], &params) != nil || len(params) == 0 {
		return raw
	}
	for k := range params {
		lk := strings.ToLower(k)
		for _, w := range secretWords {
			if strings.Contains(lk, w) {
				params[k] = json.RawMessage(`"********"`)
				break
			}
		}
	}
	b, err := json.Marshal(params)
	if err != nil {
		return raw
	}
	ref["params"] = b
	out, err := json.Marshal(ref)
	if err != nil {
		return raw
	}
	return out
}
