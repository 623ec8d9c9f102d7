package server

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// truthy reads was_cancelled: absent, empty, 0 and false are false.
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}

// createCompletion: POST /api/tasks/<id>/completions.
func (s *Server) createCompletion(c *fiber.Ctx) error {
	id, err := taskID(c, "id")
	if err != nil {
		return err
	}
	body, err := jsonBody(c, "a completion JSON object")
	if err != nil {
		return err
	}
	cid, err := s.st.SaveCompletion(s.projectName(c), id, body, truthy(c.Query("was_cancelled")))
	if err != nil {
		return err
	}
	s.completionChanged(c, id)
	// The answer of the busiest write, written without the encoder.
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	out := strconv.AppendInt(append(make([]byte, 0, 32), `{"id":`...), cid, 10)
	return c.Status(fiber.StatusCreated).Send(append(out, '}'))
}

// deleteTaskCompletions: DELETE /api/tasks/<id>/completions.
func (s *Server) deleteTaskCompletions(c *fiber.Ctx) error {
	id, err := taskID(c, "id")
	if err != nil {
		return err
	}
	if err := s.st.DeleteTaskCompletions(s.projectName(c), id); err != nil {
		return err
	}
	s.completionChanged(c, id)
	return c.SendStatus(fiber.StatusNoContent)
}

// completionID parses :cid; ok is false for the literal "null" the frontend
// sends before a completion is saved.
func completionID(c *fiber.Ctx) (int64, bool, error) {
	v := c.Params("cid")
	if v == "null" {
		return 0, false, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false, envelopeError(fiber.StatusBadRequest, "'"+v+"' is not a valid completion id: an integer is expected")
	}
	return id, true, nil
}

func sendText(c *fiber.Ctx, status int, text string) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(status).SendString(text)
}

// updateCompletion: PATCH /api/tasks/<id>/completions/<cid>.
func (s *Server) updateCompletion(c *fiber.Ctx) error {
	id, err := taskID(c, "id")
	if err != nil {
		return err
	}
	cid, ok, err := completionID(c)
	if err != nil {
		return err
	}
	if !ok {
		return sendText(c, fiber.StatusOK, "completion id is null")
	}
	body, err := jsonBody(c, "a JSON object")
	if err != nil {
		return err
	}
	if err := s.st.UpdateCompletion(s.projectName(c), id, cid, body); err != nil {
		return err
	}
	s.completionChanged(c, id)
	return sendText(c, fiber.StatusCreated, "ok")
}

// deleteCompletion: DELETE /api/tasks/<id>/completions/<cid>.
func (s *Server) deleteCompletion(c *fiber.Ctx) error {
	id, err := taskID(c, "id")
	if err != nil {
		return err
	}
	cid, ok, err := completionID(c)
	if err != nil {
		return err
	}
	if !ok {
		return sendText(c, fiber.StatusOK, "completion id is null")
	}
	if err := s.st.DeleteCompletion(s.projectName(c), id, cid); err != nil {
		return err
	}
	s.completionChanged(c, id)
	return c.SendStatus(fiber.StatusNoContent)
}

// cancelTask: POST /api/tasks/<id>/cancel, removed in 0.8.1.
func (s *Server) cancelTask(c *fiber.Ctx) error {
	return envelopeError(fiber.StatusGone, "This route is gone: skip a task with POST /api/tasks/<id>/completions?was_cancelled=1")
}
