package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"labelstudio/store"
)

// projectByParam finds the project named by the :uuid path parameter (its
// uuid, or in single-project mode also its name) that the request may
// manage: in multi-session mode only the user's own projects.
func (s *Server) projectByParam(c *fiber.Ctx) (string, error) {
	key := c.Params("uuid")
	name, err := s.st.ProjectByUUID(key)
	if err != nil && !s.opts.MultiSession {
		if _, perr := s.st.Project(key); perr == nil {
			return key, nil
		}
	}
	if err != nil {
		return "", err
	}
	if ss, ok := currentSession(c); ok {
		if owner, _, _ := strings.Cut(name, "/"); owner != ss.User {
			return "", envelopeError(fiber.StatusForbidden, "Only the owner may change or delete this project")
		}
	}
	return name, nil
}

// deleteProject: DELETE /api/projects/<uuid> removes a project with its
// tasks and completions. The project the server is serving cannot go.
func (s *Server) deleteProject(c *fiber.Ctx) error {
	name, err := s.projectByParam(c)
	if err != nil {
		return err
	}
	if name == s.projectName(c) {
		return envelopeError(fiber.StatusConflict, "This is the project you are working on: switch to another one first (or stop the server and run labelstudio project delete)")
	}
	if err := s.st.DeleteProject(name); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// updateProject: PATCH /api/projects/<uuid> with {"description": ...}
// and, on a single-project server for a project it is not serving,
// {"name": ...} to rename it.
func (s *Server) updateProject(c *fiber.Ctx) error {
	name, err := s.projectByParam(c)
	if err != nil {
		return err
	}
	var body struct {
		Name        *string `json:"name"`
		Description *string `json:"description"`
	}
	if err := bodyJSON(c, &body); err != nil {
		return err
	}
	if body.Description != nil {
		if _, err := s.st.UpdateSettings(name, func(st *store.Settings) error {
			st.Description = *body.Description
			return nil
		}); err != nil {
			return err
		}
	}
	if body.Name != nil && *body.Name != name {
		switch {
		case s.opts.MultiSession:
			return envelopeError(fiber.StatusBadRequest, "In multi-session mode projects are named by their uuid: change the description instead")
		case name == s.projectName(c):
			return envelopeError(fiber.StatusConflict, "This server is serving the project: stop it and run labelstudio project rename")
		case strings.TrimSpace(*body.Name) == "" || strings.ContainsAny(*body.Name, "/\\"):
			return envelopeError(fiber.StatusBadRequest, "A project name must not be empty nor hold / or \\")
		}
		if err := s.st.RenameProject(name, *body.Name); err != nil {
			return err
		}
		name = *body.Name
	}
	p, err := s.st.Project(name)
	if err != nil {
		return err
	}
	return c.JSON(projectInfo{UUID: p.UUID, Name: p.Name, Description: p.Settings.Description, TaskCount: p.Counters.Tasks, Current: p.Name == s.projectName(c)})
}
