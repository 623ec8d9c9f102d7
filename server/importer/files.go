package importer

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Limits bound what one import may read. Zero fields take the defaults.
type Limits struct {
	// MaxItemSize caps one item: a JSON list element, a CSV row, a text
	// line, an HTML file.
	MaxItemSize int64
	// MaxArchiveEntries caps the number of entries of the archives of one
	// import, nested ones included.
	MaxArchiveEntries int
	// MaxArchiveEntrySize caps the unpacked size of one archive entry.
	MaxArchiveEntrySize int64
	// MaxArchiveTotalSize caps the unpacked size of all archive entries of
	// one import together.
	MaxArchiveTotalSize int64
	// MaxArchiveDepth caps the nesting of archives (1: no archive inside an
	// archive).
	MaxArchiveDepth int
}

// Default limits.
const (
	DefaultMaxItemSize         = 64 << 20
	DefaultMaxArchiveEntries   = 100_000
	DefaultMaxArchiveEntrySize = 1 << 30
	DefaultMaxArchiveTotalSize = 4 << 30
	DefaultMaxArchiveDepth     = 3
)

// WithDefaults returns l with its zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxItemSize <= 0 {
		l.MaxItemSize = DefaultMaxItemSize
	}
	if l.MaxArchiveEntries <= 0 {
		l.MaxArchiveEntries = DefaultMaxArchiveEntries
	}
	if l.MaxArchiveEntrySize <= 0 {
		l.MaxArchiveEntrySize = DefaultMaxArchiveEntrySize
	}
	if l.MaxArchiveTotalSize <= 0 {
		l.MaxArchiveTotalSize = DefaultMaxArchiveTotalSize
	}
	if l.MaxArchiveDepth <= 0 {
		l.MaxArchiveDepth = DefaultMaxArchiveDepth
	}
	return l
}

// UndefinedKey is the data key of tasks made from bare files (a text line,
// an HTML page, a media file); the importer replaces it with the labeling
// config's first data key.
const UndefinedKey = "$undefined$"

// MultiKeyMessage is the error for a file that can only give one-key tasks
// while the labeling config has several data keys.
const MultiKeyMessage = "Your label config has more than one data keys, direct file upload supports only one data key. To import data with multiple data keys use JSON or CSV"

// Sink receives what a Processor reads.
type Sink interface {
	// Item receives one import item: a JSON object, either a task
	// ({"data": {...}, ...}) or bare task data. The slice is valid only
	// during the call. An error stops the import and is returned as is.
	Item(item []byte) error
	// Host stores a media file's content under the base name and returns
	// the URL tasks point at. An error stops the import and is returned
	// as is.
	Host(name string, r io.Reader) (string, error)
}

// Config tells a Processor about the project it imports into.
type Config struct {
	// DataKeys is the number of data keys of the labeling config.
	DataKeys int
	// TimeSeriesOnly is set when the config has exactly one data key and it
	// belongs to a TimeSeries tag: CSV and TSV files are then media files
	// the task points at, not tables of tasks.
	TimeSeriesOnly bool
	// TempDir receives unlinked copies of streamed inputs that must be read
	// twice (CSV, TSV) or at random (ZIP); "" means the system's.
	TempDir string
	// Limits bound the input.
	Limits Limits
}

// FileError is a problem with one input file; its message is the one
// 0.8.1 gives ("Failed to parse input file <name>: <reason>").
type FileError struct {
	Name string
	Err  error
}

func (e *FileError) Error() string {
	switch {
	case errors.Is(e.Err, ErrNull):
		return fmt.Sprintf("null in %s is not allowed", e.Name)
	case errors.Is(e.Err, errMultiKey):
		return MultiKeyMessage
	}
	return fmt.Sprintf("Failed to parse input file %s: %v", e.Name, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

var errMultiKey = errors.New(MultiKeyMessage)

// ErrRAR reports a RAR archive, which this program does not read.
var ErrRAR = errors.New("RAR archives are not supported: pack the files as a ZIP archive")

// Processor reads import files and sends their items and media to a Sink.
// It is not safe for concurrent use.
type Processor struct {
	cfg      Config
	sink     Sink
	formats  map[string]int
	entries  int
	expanded int64
	item     []byte
}

// NewProcessor returns a processor for one import.
func NewProcessor(cfg Config, sink Sink) *Processor {
	cfg.Limits = cfg.Limits.WithDefaults()
	return &Processor{cfg: cfg, sink: sink, formats: map[string]int{}}
}

// Formats returns how many files of each extension (lower case, with the
// dot; "" for none) were read. Archives count their entries, not
// themselves.
func (p *Processor) Formats() map[string]int { return p.formats }

// Ext returns the lower-case extension of a file name, with its dot.
func Ext(name string) string {
	return strings.ToLower(path.Ext(BaseName(name)))
}

// BaseName returns the last element of a path that may use '/' or '\'.
func BaseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// source is one input: a stream, and ways to read it again or at random
// when the input allows it.
type source struct {
	name string
	// ext, when set, replaces the name's extension.
	ext string
	r   io.Reader
	// reopen, when set, gives the content again from its start.
	reopen func() (io.Reader, error)
	// ra and size, when ra is set, give random access.
	ra   io.ReaderAt
	size int64
}

// File reads one input stream. The name (a file name or a path; only its
// extension and base name matter) picks the treatment of api.md §4.3:
// .zip archives are unpacked and each entry read in turn, .csv/.tsv/.txt/
// .json give tasks, .html/.htm/.xml one task holding the page, anything else
// is a media file given to Sink.Host. A file that is an *os.File is read in
// place; other streams are copied to an unlinked temporary file when they
// must be read twice.
//
// Errors are *FileError for a file that cannot be read, or what the Sink
// returned.
func (p *Processor) File(name string, r io.Reader) error {
	return p.FileAs(name, "", r)
}

// FileAs reads one input stream as File does, but picks the treatment by
// ext (".json", ".txt"...) instead of the name's extension; "" means the
// name's. Besides *os.File, a reader with ReadAt and Size methods (such as
// bytes.Reader) is read in place.
func (p *Processor) FileAs(name, ext string, r io.Reader) error {
	src := source{name: name, r: r, ext: strings.ToLower(ext)}
	var ra io.ReaderAt
	size := int64(-1)
	switch f := r.(type) {
	case *os.File:
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			ra, size = f, fi.Size()
		}
	case interface {
		io.ReaderAt
		Size() int64
	}:
		ra, size = f, f.Size()
	}
	if ra != nil && size >= 0 {
		src.ra, src.size = ra, size
		src.reopen = func() (io.Reader, error) { return io.NewSectionReader(ra, 0, size), nil }
		src.r = io.NewSectionReader(ra, 0, size)
	}
	err := p.file(src, 0)
	var ce *CallbackError
	if errors.As(err, &ce) {
		return ce.Err
	}
	return err
}

func (p *Processor) fail(name string, err error) error {
	var ce *CallbackError
	var fe *FileError
	if errors.As(err, &ce) || errors.As(err, &fe) {
		return err
	}
	return &FileError{Name: name, Err: err}
}

func (p *Processor) file(src source, depth int) error {
	ext := src.ext
	if ext == "" {
		ext = Ext(src.name)
	}
	switch ext {
	case ".zip":
		return p.archive(src, depth)
	case ".rar":
		return p.fail(src.name, ErrRAR)
	}
	p.formats[ext]++
	switch ext {
	case ".csv", ".tsv":
		if p.cfg.TimeSeriesOnly {
			return p.host(src)
		}
		return p.csv(src, ext)
	case ".txt":
		return p.txt(src)
	case ".json":
		err := JSONItems(src.r, p.cfg.Limits.MaxItemSize, p.sink.Item)
		if err != nil {
			return p.fail(src.name, err)
		}
		return nil
	}
	if p.cfg.DataKeys > 1 && !p.cfg.TimeSeriesOnly {
		return p.fail(src.name, errMultiKey)
	}
	switch ext {
	case ".html", ".htm", ".xml":
		return p.html(src)
	}
	return p.host(src)
}

// notEmpty peeks at the stream and fails for an empty one.
func notEmpty(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if _, err := br.Peek(1); err != nil {
		if err == io.EOF {
			return nil, ErrEmpty
		}
		return nil, err
	}
	return br, nil
}

// undefinedItem sets p.item to {"data": {"$undefined$": value}}.
func (p *Processor) undefinedItem(value []byte) []byte {
	p.item = append(p.item[:0], `{"data":{"`+UndefinedKey+`":`...)
	p.item = AppendJSONString(p.item, string(value))
	p.item = append(p.item, "}}"...)
	return p.item
}

func (p *Processor) txt(src source) error {
	r, err := notEmpty(src.r)
	if err != nil {
		return p.fail(src.name, err)
	}
	err = TXTLines(r, p.cfg.Limits.MaxItemSize, func(line []byte) error {
		return p.sink.Item(p.undefinedItem(line))
	})
	if err != nil {
		return p.fail(src.name, err)
	}
	return nil
}

func (p *Processor) html(src source) error {
	r, err := notEmpty(src.r)
	if err != nil {
		return p.fail(src.name, err)
	}
	max := p.cfg.Limits.MaxItemSize
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return p.fail(src.name, err)
	}
	if int64(len(b)) > max {
		return p.fail(src.name, &TooLargeError{What: "the page", Limit: max})
	}
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		b = b[3:]
	}
	if i := firstInvalidUTF8(b); i < len(b) {
		return p.fail(src.name, fmt.Errorf("the text is not valid UTF-8 (byte %d)", i+1))
	}
	if err := p.sink.Item(p.undefinedItem(MinifyHTML(b))); err != nil {
		return &CallbackError{err}
	}
	return nil
}

func (p *Processor) host(src source) error {
	r, err := notEmpty(src.r)
	if err != nil {
		return p.fail(src.name, err)
	}
	url, err := p.sink.Host(BaseName(src.name), r)
	if err != nil {
		return &CallbackError{err}
	}
	if err := p.sink.Item(p.undefinedItem([]byte(url))); err != nil {
		return &CallbackError{err}
	}
	return nil
}

func (p *Processor) csv(src source, ext string) error {
	comma := ','
	if ext == ".tsv" {
		comma = '\t'
	}
	if src.reopen == nil {
		f, err := p.spool(src.r)
		if err != nil {
			return p.fail(src.name, err)
		}
		defer f.Close()
		src.reopen = f.reopen
	}
	var item []byte
	err := CSVRecords(src.reopen, comma, p.cfg.Limits.MaxItemSize, func(data []byte) error {
		item = append(item[:0], `{"data":`...)
		item = append(item, data...)
		item = append(item, '}')
		return p.sink.Item(item)
	})
	if err != nil {
		return p.fail(src.name, err)
	}
	return nil
}

// spoolFile is an unlinked temporary copy of a stream.
type spoolFile struct {
	f    *os.File
	name string // set while the file still has a name to remove
	size int64
}

func (s *spoolFile) reopen() (io.Reader, error) { return io.NewSectionReader(s.f, 0, s.size), nil }

func (s *spoolFile) Close() error {
	err := s.f.Close()
	if s.name != "" {
		os.Remove(s.name) //nolint:errcheck // best effort
	}
	return err
}

// spool copies a stream to a temporary file, unlinked at once where the
// system allows it so that nothing stays behind even after a crash.
func (p *Processor) spool(r io.Reader) (*spoolFile, error) {
	f, err := os.CreateTemp(p.cfg.TempDir, "import-spool-*")
	if err != nil {
		return nil, fmt.Errorf("cannot make a temporary copy: %w", err)
	}
	s := &spoolFile{f: f, name: f.Name()}
	if os.Remove(f.Name()) == nil {
		s.name = ""
	}
	n, err := io.Copy(f, r)
	if err != nil {
		s.Close()
		var ce *CallbackError
		var fe *FileError
		if errors.As(err, &ce) || errors.As(err, &fe) {
			return nil, err
		}
		return nil, fmt.Errorf("cannot make a temporary copy: %w", err)
	}
	s.size = n
	return s, nil
}

// budget counts the bytes unpacked from an archive entry against the
// limits.
type budget struct {
	r     io.Reader
	p     *Processor
	name  string // the archive
	entry string
	n     int64
	total bool // count toward the import's total (first read only)
}

func (b *budget) Read(q []byte) (int, error) {
	n, err := b.r.Read(q)
	b.n += int64(n)
	l := b.p.cfg.Limits
	if b.n > l.MaxArchiveEntrySize {
		return n, &FileError{Name: b.name, Err: fmt.Errorf("entry %s is larger than the limit of %s per entry when unpacked", b.entry, HumanBytes(l.MaxArchiveEntrySize))}
	}
	if b.total {
		b.p.expanded += int64(n)
		if b.p.expanded > l.MaxArchiveTotalSize {
			return n, &FileError{Name: b.name, Err: fmt.Errorf("the archives unpack to more than the limit of %s in total", HumanBytes(l.MaxArchiveTotalSize))}
		}
	}
	return n, err
}

// skipEntry reports whether an archive entry is left out: directories,
// symbolic links, hidden files and folders, and macOS resource forks.
func skipEntry(f *zip.File) bool {
	if strings.HasSuffix(f.Name, "/") || f.FileInfo().IsDir() || f.Mode()&os.ModeSymlink != 0 || !f.Mode().IsRegular() && f.Mode()&os.ModeType != 0 {
		return true
	}
	for _, part := range strings.FieldsFunc(f.Name, func(r rune) bool { return r == '/' || r == '\\' }) {
		if strings.HasPrefix(part, ".") || part == "__MACOSX" {
			return true
		}
	}
	return false
}

func (p *Processor) archive(src source, depth int) error {
	l := p.cfg.Limits
	if depth >= l.MaxArchiveDepth {
		return p.fail(src.name, fmt.Errorf("archives are nested more than %d deep", l.MaxArchiveDepth))
	}
	if src.ra == nil {
		f, err := p.spool(src.r)
		if err != nil {
			return p.fail(src.name, err)
		}
		defer f.Close()
		src.ra, src.size = f.f, f.size
	}
	if src.size == 0 {
		return p.fail(src.name, ErrEmpty)
	}
	if n, ok := zipEntryCount(src.ra, src.size); ok && uint64(p.entries)+n > uint64(l.MaxArchiveEntries) {
		return p.fail(src.name, fmt.Errorf("the archives have more than %d entries, the limit", l.MaxArchiveEntries))
	}
	zr, err := zip.NewReader(src.ra, src.size)
	if err != nil {
		return p.fail(src.name, fmt.Errorf("not a valid ZIP archive: %w", err))
	}
	p.entries += len(zr.File)
	if p.entries > l.MaxArchiveEntries {
		return p.fail(src.name, fmt.Errorf("the archives have more than %d entries, the limit", l.MaxArchiveEntries))
	}
	for _, f := range zr.File {
		if skipEntry(f) {
			continue
		}
		if f.UncompressedSize64 > uint64(l.MaxArchiveEntrySize) {
			return p.fail(src.name, fmt.Errorf("entry %s is larger than the limit of %s per entry when unpacked", f.Name, HumanBytes(l.MaxArchiveEntrySize)))
		}
		if uint64(p.expanded)+f.UncompressedSize64 > uint64(l.MaxArchiveTotalSize) {
			return p.fail(src.name, fmt.Errorf("the archives unpack to more than the limit of %s in total", HumanBytes(l.MaxArchiveTotalSize)))
		}
		if err := p.entry(src.name, f, depth); err != nil {
			return err
		}
	}
	return nil
}

func (p *Processor) entry(archive string, f *zip.File, depth int) error {
	name := archive + "/" + f.Name
	first := true
	var open []io.Closer
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	openEntry := func() (io.Reader, error) {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("cannot unpack %s: %w", f.Name, err)
		}
		open = append(open, rc)
		b := &budget{r: rc, p: p, name: archive, entry: f.Name, total: first}
		first = false
		return b, nil
	}
	r, err := openEntry()
	if err != nil {
		return p.fail(archive, err)
	}
	// The first read (counted toward the total) uses the stream opened
	// above; a second read (CSV) opens the entry again.
	used := false
	reopen := func() (io.Reader, error) {
		if !used {
			used = true
			return r, nil
		}
		return openEntry()
	}
	src := source{name: name, r: r, reopen: reopen}
	return p.file(src, depth+1)
}

// zipEntryCount reads the entry count from a ZIP archive's end records,
// before the archive/zip reader allocates the whole directory. ok is false
// when the records are not found (the zip reader then reports the error).
func zipEntryCount(ra io.ReaderAt, size int64) (uint64, bool) {
	const eocdLen = 22
	search := int64(eocdLen + 65535)
	if search > size {
		search = size
	}
	if search < eocdLen {
		return 0, false
	}
	buf := make([]byte, search)
	if _, err := ra.ReadAt(buf, size-search); err != nil && err != io.EOF {
		return 0, false
	}
	for i := len(buf) - eocdLen; i >= 0; i-- {
		if buf[i] != 'P' || buf[i+1] != 'K' || buf[i+2] != 5 || buf[i+3] != 6 {
			continue
		}
		n := uint64(le16(buf[i+10:]))
		if n != 0xFFFF || i < 20 {
			return n, true
		}
		// ZIP64: the locator precedes the end record.
		loc := buf[i-20:]
		if loc[0] != 'P' || loc[1] != 'K' || loc[2] != 6 || loc[3] != 7 {
			return n, true
		}
		off := int64(le64(loc[8:]))
		rec := make([]byte, 56)
		if off < 0 || off > size-56 {
			return 0, false
		}
		if _, err := ra.ReadAt(rec, off); err != nil {
			return 0, false
		}
		if rec[0] != 'P' || rec[1] != 'K' || rec[2] != 6 || rec[3] != 6 {
			return 0, false
		}
		return le64(rec[32:]), true
	}
	return 0, false
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
