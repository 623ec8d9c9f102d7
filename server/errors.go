package server

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// apiError is an error that carries its HTTP status and the exact body to
// send. Handlers return it (or a store error); only errorHandler writes
// error bodies.
type apiError struct {
	status int
	// body is sent as JSON unless text is set.
	body any
	// text, when set, is sent as a plain-text body.
	text   string
	isText bool
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// envelopeError answers the spec's error envelope (status, detail, request,
// result) with the given status.
func envelopeError(status int, detail string) error {
	return &apiError{status: status, msg: detail}
}

// detailError answers exactly {"detail": detail}.
func detailError(status int, detail string) error {
	return &apiError{status: status, body: fiber.Map{"detail": detail}, msg: detail}
}

// jsonError answers body as JSON.
func jsonError(status int, body any, msg string) error {
	return &apiError{status: status, body: body, msg: msg}
}

// textError answers a plain-text body.
func textError(status int, text string) error {
	return &apiError{status: status, text: text, isText: true, msg: text}
}

// configError answers 400 {"label_config": [...]}.
func configError(err error) error {
	var le *labelconfig.Error
	msgs := []string{err.Error()}
	if errors.As(err, &le) && len(le.Messages) > 0 {
		msgs = le.Messages
	}
	return jsonError(fiber.StatusBadRequest, fiber.Map{"label_config": msgs}, strings.Join(msgs, "; "))
}

// importError answers 400 with a JSON array of messages, the shape the
// import page shows as a list.
func importError(msgs ...string) error {
	return jsonError(fiber.StatusBadRequest, msgs, strings.Join(msgs, "; "))
}

// statusOf maps a store error kind to an HTTP status.
func statusOf(err error) (int, bool) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fiber.StatusNotFound, true
	case errors.Is(err, store.ErrInvalid):
		return fiber.StatusBadRequest, true
	case errors.Is(err, store.ErrConflict):
		return fiber.StatusConflict, true
	case errors.Is(err, store.ErrNotAllowed):
		return fiber.StatusUnprocessableEntity, true
	}
	return 0, false
}

// errorHandler is the one place that turns errors into responses.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var ae *apiError
	var fe *fiber.Error
	switch {
	case errors.As(err, &ae):
		if ae.isText {
			c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
			return c.Status(ae.status).SendString(ae.text)
		}
		if ae.body != nil {
			return c.Status(ae.status).JSON(ae.body)
		}
		return s.sendEnvelope(c, ae.status, ae.msg)
	case errors.As(err, &fe):
		msg := fe.Message
		switch fe.Code {
		case fiber.StatusNotFound:
			msg = "Not found: " + c.Method() + " " + c.Path()
		case fiber.StatusMethodNotAllowed:
			msg = "Method " + c.Method() + " is not allowed on " + c.Path()
		case fiber.StatusRequestEntityTooLarge:
			msg = "Request body is too large: the limit is " + humanBytes(int64(s.bodyLimit())) + " for this server"
		}
		return s.sendEnvelope(c, fe.Code, msg)
	}
	var rc *store.RevisionConflict
	if errors.As(err, &rc) {
		return c.Status(fiber.StatusConflict).JSON(fiber.Map{
			"status": fiber.StatusConflict, "detail": rc.Error(), "revision": rc.Revision, "completion": rc.Current,
		})
	}
	if status, ok := statusOf(err); ok {
		if status == fiber.StatusUnprocessableEntity {
			return c.Status(status).JSON(fiber.Map{"detail": err.Error()})
		}
		return s.sendEnvelope(c, status, err.Error())
	}
	s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	return s.sendEnvelope(c, fiber.StatusInternalServerError, "internal server error: "+err.Error())
}

// sendEnvelope writes the error envelope of the spec (api.md §0.4).
func (s *Server) sendEnvelope(c *fiber.Ctx, status int, detail string) error {
	req := map[string]string{}
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if _, ok := req[string(k)]; !ok {
			req[string(k)] = string(v)
		}
	})
	if status == fiber.StatusNoContent {
		return c.SendStatus(status)
	}
	return c.Status(status).JSON(fiber.Map{
		"status":  status,
		"detail":  detail,
		"request": req,
		"result":  fiber.Map{"traceback": ""},
	})
}
