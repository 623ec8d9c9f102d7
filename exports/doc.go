// Package exports owns the export formats of labelstudio: it turns a
// project's tasks and completions into the files Label Studio 0.8.1 (through
// label-studio-converter 0.0.20) offered for download — JSON, JSON_MIN, CSV,
// TSV, CONLL2003, COCO, VOC, BRUSH_TO_NUMPY and BRUSH_TO_PNG — plus two
// formats the original lacked, YOLO and ASR_MANIFEST.
//
// Each format is a small type implementing Format. It states which labeling
// configs it supports (Supports, following the converter's rules) and writes
// its files into a *zip.Writer from an Iterator over stored tasks, in one
// pass. Formats stream: they keep at most per-image or per-category
// summaries in memory. A file that needs facts known only at the end (COCO's
// categories, the CSV header) or that is interleaved with other entries
// (the ASR manifest between audio files) is spooled to a temporary file and
// copied into the zip at the end.
//
// The package reads the labeling config only through Schema, a small
// description of control and object tags built by the caller (see
// SchemaFromConfig), and knows nothing of HTTP: Write creates the zip on any
// io.Writer, which the server points at its response.
//
// Problems that are the data's fault rather than the program's — a region
// without the stored image size, a text span whose text does not match the
// task text, a brush mask that does not decode — never stop an export: the
// affected piece is skipped and listed, with its task id, in a warnings.txt
// file at the root of the zip.
package exports
