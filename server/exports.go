package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/gofiber/fiber/v2"

	"labelstudio/exports"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// exportFormats lists the formats the project's config supports: the
// formats of Label Studio 0.8.1 first, then the extra ones.
func exportFormats(cfg *labelconfig.Config) []string {
	if cfg == nil {
		return []string{"JSON", "JSON_MIN", "CSV", "TSV"}
	}
	schema := exports.SchemaFromConfig(cfg)
	return append(exports.Supported(schema), exports.SupportedExtras(schema)...)
}

// exportZip streams an export of the project in the given format straight
// into the response (api.md §4.4); nothing is kept on disk.
func (s *Server) exportZip(c *fiber.Ctx, format string) error {
	p, cfg, err := s.project(c)
	if err != nil {
		return err
	}
	offered := exportFormats(cfg)
	ok := false
	for _, f := range offered {
		ok = ok || f == format
	}
	if !ok {
		if _, known := exports.Lookup(format); !known {
			return envelopeError(fiber.StatusBadRequest, fmt.Sprintf("Unknown export format %q: this project offers %s", format, strings.Join(offered, ", ")))
		}
		return envelopeError(fiber.StatusBadRequest, fmt.Sprintf("Export format %s does not fit this project's labeling config: it offers %s", format, strings.Join(offered, ", ")))
	}
	schema := exports.SchemaFromConfig(cfg)
	opts := exports.DefaultOptions()
	opts.Now = s.opts.Now()
	if v := c.Query("only_completed"); v != "" {
		opts.OnlyCompleted = truthy(v)
	}
	opts.IncludePredictions = truthy(c.Query("include_predictions"))
	opts.Media = s.exportMedia(p.Name)
	name := exports.Filename(s.opts.Now())
	project := p.Name
	tasks := func(fn func(store.Task) error) error {
		return s.st.EachTask(project, opts.OnlyCompleted, fn)
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, "attachment; filename="+name)
	c.Set("filename", name)
	log := s.log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		if err := exports.Write(w, format, tasks, schema, opts); err != nil {
			// The status line is gone already: the zip ends broken, and
			// the log says why.
			log.Error("export failed", "project", project, "format", format, "err", err)
		}
		_ = w.Flush()
	})
	return nil
}

// exportMedia lets image and audio exports copy files uploaded to the
// project; other URLs stay as they are in the export.
func (s *Server) exportMedia(project string) exports.MediaFunc {
	if s.opts.UploadDir == "" {
		return nil
	}
	dir := filepath.Join(s.opts.UploadDir, store.UploadFolder(project))
	return func(value string) (string, io.ReadCloser, error) {
		u, err := url.Parse(value)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %v", exports.ErrNoMedia, err)
		}
		rest, ok := strings.CutPrefix(u.Path, "/data/upload/")
		if !ok {
			rest, ok = strings.CutPrefix(u.Path, "data/upload/")
		}
		if !ok || rest == "" || strings.ContainsAny(rest, `/\`) || strings.HasPrefix(rest, ".") {
			return "", nil, exports.ErrNoMedia
		}
		f, err := os.Open(filepath.Join(dir, rest))
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("%w: %s is not in the upload folder", exports.ErrNoMedia, rest)
		}
		if err != nil {
			return "", nil, err
		}
		return rest, f, nil
	}
}
