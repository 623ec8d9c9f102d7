package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/store"
)

// Multi-session mode (api.md §7): every browser gets a user id in a signed
// cookie, and its own projects named "<user uuid>/<project uuid>".

const (
	sessionCookie = "session"
	localProject  = "project"
	localSession  = "session"
)

// session is what the signed cookie carries.
type session struct {
	ID             string          `json:"session_id"`
	User           string          `json:"user"`
	Project        string          `json:"project"`
	SharedProjects map[string]bool `json:"shared_projects,omitempty"`
}

// projectName is the project the request works on: the one named on the
// command line, or in multi-session mode the session's current project.
func (s *Server) projectName(c *fiber.Ctx) string {
	if name, ok := c.Locals(localProject).(string); ok && name != "" {
		return name
	}
	return s.opts.Project
}

func (s *Server) signSession(ss session) (string, error) {
	b, err := json.Marshal(ss)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

func (s *Server) readSession(v string) (session, bool) {
	var ss session
	payload, sig, ok := strings.Cut(v, ".")
	if !ok {
		return ss, false
	}
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(payload))
	want := mac.Sum(nil)
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, want) {
		return ss, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &ss) != nil || ss.User == "" {
		return session{}, false
	}
	return ss, true
}

func (s *Server) saveSession(c *fiber.Ctx, ss session) error {
	v, err := s.signSession(ss)
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    v,
		Path:     "/",
		HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode,
		Expires:  time.Now().AddDate(1, 0, 0),
	})
	c.Locals(localSession, ss)
	c.Locals(localProject, ss.Project)
	return nil
}

// newProjectSettings are the settings of a project made for a session.
func (s *Server) newProjectSettings(desc string) store.Settings {
	st := store.DefaultSettings()
	if desc != "" {
		st.Description = desc
	}
	return st
}

// sessions resolves the session and its project before every request in
// multi-session mode, creating both on a first visit.
func (s *Server) sessions(c *fiber.Ctx) error {
	if !s.opts.MultiSession || strings.HasPrefix(c.Path(), "/static/") {
		return c.Next()
	}
	ss, ok := s.readSession(c.Cookies(sessionCookie))
	if !ok {
		ss = session{ID: store.NewUUID(), User: store.NewUUID()}
	}
	dirty := !ok
	// One read tells whether the session's project is still there; errors
	// other than "not found" leave the session as it is.
	missing := ss.Project == ""
	if !missing {
		_, err := s.st.Project(ss.Project)
		missing = errors.Is(err, store.ErrNotFound)
	}
	owner, id, _ := strings.Cut(ss.Project, "/")
	if missing && owner != ss.User {
		// No project yet, or a shared one that is gone: use a new own one.
		delete(ss.SharedProjects, ss.Project)
		id = store.NewUUID()
		ss.Project = ss.User + "/" + id
		dirty = true
	}
	if missing {
		if _, err := s.st.CreateProjectWithUUID(ss.Project, id, s.newProjectSettings(""), s.opts.DefaultLabelConfig); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	if dirty {
		if err := s.saveSession(c, ss); err != nil {
			return err
		}
	} else {
		c.Locals(localSession, ss)
		c.Locals(localProject, ss.Project)
	}
	return c.Next()
}

func currentSession(c *fiber.Ctx) (session, bool) {
	ss, ok := c.Locals(localSession).(session)
	return ss, ok
}

// newProject: POST /api/project?new=1&desc=... in multi-session mode.
func (s *Server) newProject(c *fiber.Ctx) error {
	ss, ok := currentSession(c)
	if !ok {
		return envelopeError(fiber.StatusBadRequest, "Creating projects with ?new= is only possible in multi-session mode (labelstudio start-multi-session)")
	}
	id := store.NewUUID()
	name := ss.User + "/" + id
	if _, err := s.st.CreateProjectWithUUID(name, id, s.newProjectSettings(c.Query("desc")), s.opts.DefaultLabelConfig); err != nil {
		return err
	}
	ss.Project = name
	if err := s.saveSession(c, ss); err != nil {
		return err
	}
	return s.sendProject(c, fiber.StatusCreated)
}

// projectSwitch: GET|POST /api/project-switch?uuid=... (api.md §7.3).
func (s *Server) projectSwitch(c *fiber.Ctx) error {
	uuid := c.Query("uuid")
	if uuid == "" {
		uuid = formOrQuery(c, "uuid")
	}
	if uuid == "" {
		return textError(fiber.StatusBadRequest, "Not a valid UUID")
	}
	ss, ok := currentSession(c)
	if !ok {
		return envelopeError(fiber.StatusNotFound, "Project switching is only possible in multi-session mode (labelstudio start-multi-session)")
	}
	name, err := s.st.ProjectByUUID(uuid)
	if err != nil {
		return err
	}
	prev, prevErr := s.st.Project(ss.Project)
	if owner, _, _ := strings.Cut(name, "/"); owner != ss.User {
		if ss.SharedProjects == nil {
			ss.SharedProjects = map[string]bool{}
		}
		ss.SharedProjects[name] = true
	}
	ss.Project = name
	if err := s.saveSession(c, ss); err != nil {
		return err
	}
	if c.Method() == fiber.MethodGet {
		return c.Redirect("/setup", fiber.StatusFound)
	}
	if prevErr != nil {
		return prevErr
	}
	body, err := s.projectJSON(prev, s.parsedConfig(prev))
	if err != nil {
		return err
	}
	body["multi_session_mode"] = true
	return c.JSON(body)
}

// projectInfo is one entry of GET /api/projects.
type projectInfo struct {
	UUID        string `json:"uuid"`
	Name        string `json:"name"`
	Description string `json:"description"`
	TaskCount   int64  `json:"task_count"`
	Shared      bool   `json:"shared"`
	Current     bool   `json:"current"`
}

// listProjects: GET /api/projects — the projects the user can open: in
// multi-session mode their own and the shared ones, else every project of
// the database.
func (s *Server) listProjects(c *fiber.Ctx) error {
	all, err := s.st.Projects()
	if err != nil {
		return err
	}
	cur := s.projectName(c)
	ss, multi := currentSession(c)
	out := []projectInfo{}
	for _, p := range all {
		owner, _, _ := strings.Cut(p.Name, "/")
		shared := multi && ss.SharedProjects[p.Name]
		if multi && owner != ss.User && !shared {
			continue
		}
		out = append(out, projectInfo{UUID: p.UUID, Name: p.Name, Description: p.Description, TaskCount: p.Tasks, Shared: shared, Current: p.Name == cur})
	}
	return c.JSON(out)
}
