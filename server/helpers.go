package server

import (
	"github.com/gofiber/fiber/v2"
)

// FrontendVersion is the version.json of the bundled labeling frontend; the
// frontend package sets it when the bundle is embedded.
var FrontendVersion = map[string]any{}

// version: GET /version.
func (s *Server) version(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{
		"label-studio-frontend": FrontendVersion,
		"label-studio-backend":  APIVersion,
		"label-studio-go":       s.opts.Version,
	})
}

// health: GET /api/health.
func (s *Server) health(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "up"}) }

// states: GET /api/states (a no-op the setup page calls).
func (s *Server) states(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "done"}) }
