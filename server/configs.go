package server

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/store/labelconfig"
	"labelstudio/store/labelconfig/templates"
)

// validateConfig: POST /api/validate-config — full validation, no side
// effects (api.md §4.15).
func (s *Server) validateConfig(c *fiber.Ctx) error {
	text, ok := configFromRequest(c)
	if !ok {
		return textError(fiber.StatusExpectationFailed, "No label_config in POST")
	}
	if _, err := s.checkConfig(c, text); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// checkConfig runs the whole validation of a config for the request's
// project: the config rules, then compatibility with its tasks and
// completions. It returns the parsed config or a 400 label_config error.
func (s *Server) checkConfig(c *fiber.Ctx, text string) (*labelconfig.Config, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	cfg, err := labelconfig.Validate(text)
	if err != nil {
		return nil, configError(err)
	}
	f, err := s.st.Facts(s.projectName(c))
	if err != nil {
		return nil, err
	}
	if err := CheckCompatible(cfg, f); err != nil {
		return nil, s.compatResponse(c, err)
	}
	return cfg, nil
}

// compatResponse turns a compatibility error into the 400 answer, naming
// how many completions and which tasks block the change.
func (s *Server) compatResponse(c *fiber.Ctx, err error) error {
	var ce *labelconfig.CompatError
	if !errors.As(err, &ce) {
		return err
	}
	msgs := ce.Messages()
	for _, u := range compatUses(ce.Problems) {
		ids, n, qerr := s.st.TasksUsing(s.projectName(c), u.fromName, u.label, 20)
		if qerr != nil || n == 0 {
			continue
		}
		what := `control "` + u.fromName + `"`
		if u.label != "" {
			what = `label "` + u.label + `" of control "` + u.fromName + `"`
		}
		msgs = append(msgs, fmt.Sprintf("%d completion(s) use %s, in tasks %s: delete or update them first", n, what, idList(ids, n)))
	}
	return jsonError(fiber.StatusBadRequest, fiber.Map{"label_config": msgs}, strings.Join(msgs, "; "))
}

// compatUse names a control (and label) that a refused config drops.
type compatUse struct{ fromName, label string }

// compatUses lists the controls and labels in use that a refused config
// drops, each once, in the order of the problems.
func compatUses(problems []labelconfig.Incompatibility) []compatUse {
	var uses []compatUse
	seen := map[compatUse]bool{}
	add := func(u compatUse) {
		if !seen[u] {
			seen[u] = true
			uses = append(uses, u)
		}
	}
	for _, p := range problems {
		switch {
		case p.FromName == "":
		case len(p.Labels) == 0:
			add(compatUse{fromName: p.FromName})
		default:
			for _, l := range p.Labels {
				add(compatUse{fromName: p.FromName, label: l})
			}
		}
	}
	return uses
}

func idList(ids []int64, total int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	s := strings.Join(parts, ", ")
	if int64(len(ids)) < total {
		s += ", …"
	}
	return s
}

// importExample: GET|POST /api/import-example — sample data for a config
// (api.md §4.16).
func (s *Server) importExample(c *fiber.Ctx) error {
	text := c.Query("label_config")
	if text == "" {
		text, _ = configFromRequest(c)
	}
	if strings.TrimSpace(text) == "" {
		return textError(fiber.StatusBadRequest, "error while example generating")
	}
	if _, err := s.checkConfig(c, text); err != nil {
		return textError(fiber.StatusBadRequest, "error while example generating")
	}
	data, _, _, err := labelconfig.SampleTask(text, labelconfig.EditorPreview)
	if err != nil {
		return textError(fiber.StatusBadRequest, "error while example generating")
	}
	return sendRawJSON(c, fiber.StatusOK, data)
}

// importExampleFile: GET /api/import-example-file?q=json|csv|tsv|txt — a
// sample import file for the project's config (api.md §4.17).
func (s *Server) importExampleFile(c *fiber.Ctx) error {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return err
	}
	q := c.Query("q", "json")
	cfg, err := labelconfig.Parse(p.LabelConfig)
	if err != nil {
		return textError(fiber.StatusBadRequest, "error while example generating")
	}
	data, _, _, err := labelconfig.SampleTask(p.LabelConfig, labelconfig.Upload)
	if err != nil {
		return textError(fiber.StatusBadRequest, "error while example generating")
	}
	var values map[string]json.RawMessage
	if err := json.Unmarshal(data, &values); err != nil {
		return textError(fiber.StatusBadRequest, "error while example generating")
	}
	keys := make([]string, 0, len(cfg.DataKeys()))
	for _, k := range cfg.DataKeys() {
		keys = append(keys, k.Key)
	}
	var body []byte
	switch q {
	case "json":
		body = []byte("[" + string(data) + ", " + string(data) + "]")
	case "csv", "tsv":
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		if q == "tsv" {
			w.Comma = '\t'
		}
		row := make([]string, len(keys))
		for i, k := range keys {
			row[i] = cellText(values[k])
		}
		_ = w.Write(keys)
		_ = w.Write(row)
		_ = w.Write(row)
		w.Flush()
		body = b.Bytes()
	case "txt":
		if len(keys) != 1 {
			return textError(fiber.StatusBadRequest, "TXT is unsupported for projects with multiple sources in config")
		}
		line := cellText(values[keys[0]])
		body = []byte(line + "\n" + line + "\n")
	default:
		return textError(fiber.StatusBadRequest, `Incorrect format ("q") in request`)
	}
	if c.Query("raw") == "" {
		name := "sample-" + s.opts.Now().Format("2006-01-02-15-04") + "." + q
		c.Set(fiber.HeaderContentDisposition, "attachment; filename="+name)
		c.Set("filename", name)
	}
	ct := map[string]string{"json": fiber.MIMEApplicationJSON, "csv": "text/csv", "tsv": "text/tab-separated-values", "txt": fiber.MIMETextPlainCharsetUTF8}[q]
	c.Set(fiber.HeaderContentType, ct)
	return c.Send(body)
}

// cellText is a sample value as a CSV cell: strings as they are, anything
// else as its JSON text.
func cellText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// listTemplates: GET /api/templates — the gallery for the setup page.
func (s *Server) listTemplates(c *fiber.Ctx) error {
	all, err := templates.All()
	if err != nil {
		return err
	}
	return c.JSON(all)
}
