// Package labelconfig owns the labeling config: the XML document that tells
// the labeling frontend which task data to show (object tags such as Image or
// Text) and which annotations to collect (control tags such as Choices or
// RectangleLabels).
//
// The package parses a config once into a Config model that every other part
// of the program shares: validation for the API (Validate), the data keys and
// value types checked at import (DataKeys, CheckTaskData), the control tags
// with their labels used by exports and ML backends (Controls, ParsedConfig),
// the comment-free and single-line variants sent to the frontend (FullConfig,
// LineConfig), sample tasks for the Setup and Import pages (SampleTask) and
// the compatibility checks run when a config changes under existing tasks and
// completions (CheckCompatibility).
//
// The behaviour follows Label Studio 0.8.1 as described in the project's
// config specification. The XML parser is the package's own strict XML 1.0
// parser: it needs no network, expands no DTD entities and enforces the size,
// depth and element limits declared below, so any input is rejected or
// accepted quickly and without panics.
package labelconfig
