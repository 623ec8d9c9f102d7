package store

import (
	"bytes"
	"fmt"

	json "github.com/goccy/go-json"
)

// MLBackend is one machine-learning backend connected to a project.
type MLBackend struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// StorageRef names a task source or a completion target of a project.
type StorageRef struct {
	Name   string          `json:"name,omitempty"`
	Type   string          `json:"type"`
	Path   string          `json:"path,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
}

// Settings are a project's settings: the keys of a Label Studio 0.8.1
// config.json. Keys the program does not know are kept verbatim in Extra and
// written back, so a config.json round-trips.
type Settings struct {
	Title                          string          `json:"title"`
	Description                    string          `json:"description"`
	Protocol                       string          `json:"protocol"`
	Host                           string          `json:"host"`
	Port                           int             `json:"port"`
	Debug                          bool            `json:"debug"`
	Instruction                    string          `json:"instruction"`
	AllowDeleteCompletions         bool            `json:"allow_delete_completions"`
	Sampling                       string          `json:"sampling"`
	MLBackends                     []MLBackend     `json:"ml_backends"`
	TaskPageAutoUpdateTimer        int             `json:"task_page_auto_update_timer"`
	ShowProjectLinksInMultisession bool            `json:"show_project_links_in_multisession"`
	Source                         StorageRef      `json:"source"`
	Target                         StorageRef      `json:"target"`
	LabelConfigUpdated             bool            `json:"label_config_updated"`
	Username                       string          `json:"username,omitempty"`
	Password                       string          `json:"password,omitempty"`
	Cert                           string          `json:"cert,omitempty"`
	Key                            string          `json:"key,omitempty"`
	AllowServingLocalFiles         bool            `json:"allow_serving_local_files"`
	EnablePredictionsButton        bool            `json:"enable_predictions_button"`
	Editor                         json.RawMessage `json:"editor,omitempty"`

	// Extra holds keys of config.json this program does not interpret.
	Extra map[string]json.RawMessage `json:"-"`
}

// DefaultInstruction is the annotator instruction of a new project.
const DefaultInstruction = "Type some <b>hypertext</b> for annotators here!<br> Read the labeling guide in the project's documentation to learn about the labeling interface."

// Sampling modes of /api/project/next.
const (
	SamplingSequential = "sequential"
	SamplingUniform    = "uniform"
	SamplingScoreMin   = "prediction-score-min"
	SamplingScoreMax   = "prediction-score-max"
)

// ValidSampling reports whether s names a sampling mode.
func ValidSampling(s string) bool {
	switch s {
	case SamplingSequential, SamplingUniform, SamplingScoreMin, SamplingScoreMax:
		return true
	}
	return false
}

// DefaultSettings returns the settings of a new project, as 0.8.1's
// default_config.json gives them.
func DefaultSettings() Settings {
	return Settings{
		Title:                          "Label Studio",
		Description:                    "default",
		Protocol:                       "http://",
		Host:                           "0.0.0.0",
		Port:                           8080,
		Instruction:                    DefaultInstruction,
		AllowDeleteCompletions:         true,
		Sampling:                       SamplingSequential,
		MLBackends:                     []MLBackend{},
		TaskPageAutoUpdateTimer:        10000,
		ShowProjectLinksInMultisession: true,
		Source:                         StorageRef{Name: "Tasks", Type: "tasks-json", Path: "tasks.json"},
		Target:                         StorageRef{Name: "Completions", Type: "completions-dir", Path: "completions"},
		Editor:                         json.RawMessage(`{"debug":false}`),
	}
}

// settingsFields is the set of JSON keys Settings maps to fields.
var settingsFields = map[string]bool{
	"title": true, "description": true, "protocol": true, "host": true, "port": true,
	"debug": true, "instruction": true, "allow_delete_completions": true, "sampling": true,
	"ml_backends": true, "task_page_auto_update_timer": true,
	"show_project_links_in_multisession": true, "source": true, "target": true,
	"label_config_updated": true, "username": true, "password": true, "cert": true, "key": true,
	"allow_serving_local_files": true, "enable_predictions_button": true, "editor": true,
}

type settingsAlias Settings

// MarshalJSON writes the known fields and the Extra keys as one object.
func (s Settings) MarshalJSON() ([]byte, error) {
	known, err := json.Marshal(settingsAlias(s))
	if err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	if len(s.Extra) == 0 {
		return known, nil
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(known, &m); err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	for k, v := range s.Extra {
		if !settingsFields[k] {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads an object; keys it does not know go into Extra.
func (s *Settings) UnmarshalJSON(b []byte) error {
	return s.Apply(b)
}

// Apply overlays the keys of a config.json object onto s: keys the object
// names replace the current values, the others keep theirs. A `null` value
// for a known key is ignored. It is what `-c FILE` does to a project.
func (s *Settings) Apply(raw []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Invalidf("settings must be a JSON object: %v", err)
	}
	known := map[string]json.RawMessage{}
	for k, v := range m {
		if settingsFields[k] {
			if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
				continue
			}
			known[k] = v
			continue
		}
		if s.Extra == nil {
			s.Extra = map[string]json.RawMessage{}
		}
		s.Extra[k] = append(json.RawMessage(nil), v...)
	}
	kb, err := json.Marshal(known)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	alias := (*settingsAlias)(s)
	if err := json.Unmarshal(kb, alias); err != nil {
		return Invalidf("settings: %v", err)
	}
	if s.MLBackends == nil {
		s.MLBackends = []MLBackend{}
	}
	if s.Sampling != "" && !ValidSampling(s.Sampling) {
		return Invalidf("unknown sampling %q: use sequential, uniform, prediction-score-min or prediction-score-max", s.Sampling)
	}
	return nil
}

// Public returns the settings as a JSON object safe to show to clients: the
// password is never included.
func (s Settings) Public() ([]byte, error) {
	c := s
	c.Password = ""
	c.Username = ""
	return json.Marshal(c)
}
