// Package importer reads the files a user imports into a project — JSON,
// CSV, TSV, TXT, HTML, media files and ZIP archives of them — and turns them
// into import items, the way Label Studio 0.8.1's uploader does
// (api.md §4.3). It knows nothing of HTTP or of the store: parsers stream
// their input and hand every item to a callback, so that inputs of any size
// are read in constant memory, and they never panic, whatever the input.
//
// The entry point is Processor, which picks a parser by file-name extension
// and sends items and media files to a Sink. The parsers are usable alone:
// JSONItems, TXTLines, CSVRecords and MinifyHTML.
package importer
