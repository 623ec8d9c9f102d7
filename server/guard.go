package server

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// sameOrigin reports whether an Origin or Referer value names this server
// (or the one allowed origin).
func (s *Server) sameOrigin(c *fiber.Ctx, origin string) bool {
	if origin == "" || origin == "null" {
		return origin == ""
	}
	if s.opts.AllowOrigin != "" && strings.EqualFold(strings.TrimSuffix(origin, "/"), strings.TrimSuffix(s.opts.AllowOrigin, "/")) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, c.Hostname())
}

// originGuard refuses state-changing requests that a browser sends on
// behalf of another site (cross-site request forgery): a POST, PATCH, PUT
// or DELETE whose Origin (or, without it, Referer) is another site, or that
// the browser marks Sec-Fetch-Site: cross-site. Scripts and command-line
// clients send none of these headers and pass.
func (s *Server) originGuard(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if c.Get("Sec-Fetch-Site") == "cross-site" && s.opts.AllowOrigin == "" {
		return envelopeError(fiber.StatusForbidden, "Cross-site request refused: this server only takes changes from its own pages")
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		if ref := c.Get(fiber.HeaderReferer); ref != "" {
			if u, err := url.Parse(ref); err == nil {
				origin = u.Scheme + "://" + u.Host
			}
		}
	}
	if origin != "" && !s.sameOrigin(c, origin) {
		return envelopeError(fiber.StatusForbidden, "Cross-site request refused: origin "+origin+" may not change data here (see --allow-origin)")
	}
	return c.Next()
}

// cors answers the one allowed origin's browser requests (--allow-origin).
// Without it no CORS header is ever sent.
func (s *Server) cors(c *fiber.Ctx) error {
	if s.opts.AllowOrigin == "" {
		return c.Next()
	}
	origin := c.Get(fiber.HeaderOrigin)
	if !strings.EqualFold(strings.TrimSuffix(origin, "/"), strings.TrimSuffix(s.opts.AllowOrigin, "/")) {
		return c.Next()
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	c.Set(fiber.HeaderVary, fiber.HeaderOrigin)
	c.Set(fiber.HeaderAccessControlAllowCredentials, "true")
	if c.Method() == fiber.MethodOptions {
		c.Set(fiber.HeaderAccessControlAllowMethods, "GET,POST,PATCH,DELETE")
		c.Set(fiber.HeaderAccessControlAllowHeaders, "Content-Type,Authorization")
		c.Set(fiber.HeaderAccessControlMaxAge, "600")
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Next()
}

// heavyPaths are the endpoints whose work grows with the project: exports,
// backups and predictions for all tasks.
func isHeavy(c *fiber.Ctx) bool {
	p := strings.TrimSuffix(c.Path(), "/")
	switch p {
	case "/api/project/export", "/api/export", "/api/backup":
		return c.Query("format") != "" || p == "/api/backup"
	case "/api/models/predictions":
		return c.Query("mode") == "all_tasks"
	}
	return false
}

// limitHeavy lets at most Options.HeavyWork heavy requests run at once; the
// next ones wait up to HeavyWait, then get 503 with a clear detail, so one
// user exporting in a loop cannot starve the others.
func (s *Server) limitHeavy(c *fiber.Ctx) error {
	if !isHeavy(c) {
		return c.Next()
	}
	t := time.NewTimer(s.heavyWait())
	defer t.Stop()
	select {
	case s.heavy <- struct{}{}:
	case <-t.C:
		c.Set(fiber.HeaderRetryAfter, "5")
		return envelopeError(fiber.StatusServiceUnavailable, "The server is busy with other exports or predictions; try again in a few seconds")
	}
	defer func() { <-s.heavy }()
	return c.Next()
}

func (s *Server) heavyWait() time.Duration {
	if s.opts.HeavyWait > 0 {
		return s.opts.HeavyWait
	}
	return DefaultHeavyWait
}
