package exports

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/png"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// checkParses reads every file of an export back with an independent
// reader and checks its structure, so that the goldens are not only equal
// to themselves but valid in their format.
func checkParses(t *testing.T, format string, entries []zipEntry) {
	t.Helper()
	files := entryMap(entries)
	for _, e := range entries {
		name, data := e.name, e.data
		if strings.HasSuffix(name, "/") || name == warningsFile {
			continue
		}
		var err error
		switch {
		case format == "COCO" && name == "result.json":
			err = checkCOCO(data)
		case name == "result.json":
			var v []map[string]any
			err = json.Unmarshal(data, &v)
		case name == "result.csv":
			sep := ','
			if format == "TSV" {
				sep = '\t'
			}
			_, err = readTable(data, sep)
		case name == "result.conll":
			err = checkCoNLL(data)
		case strings.HasPrefix(name, "Annotations/"):
			_, err = readVOC(data)
		case format == "YOLO" && strings.HasPrefix(name, "labels/"):
			err = checkYOLO(data, files["classes.txt"])
		case strings.HasSuffix(name, ".npy"):
			_, _, _, err = readNPY(data)
		case strings.HasSuffix(name, ".png") && strings.HasPrefix(name, "task-"):
			_, err = png.Decode(bytes.NewReader(data))
		case name == "manifest.json":
			for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
				if line == "" {
					continue
				}
				var v struct {
					Path     string   `json:"audio_filepath"`
					Duration *float64 `json:"duration"`
					Text     *string  `json:"text"`
				}
				if err = json.Unmarshal([]byte(line), &v); err == nil && (v.Duration == nil || v.Text == nil || v.Path == "") {
					err = fmt.Errorf("manifest line %q misses a key", line)
				}
				if err != nil {
					break
				}
			}
		}
		if err != nil {
			t.Errorf("%s: %s does not parse back: %v", format, name, err)
		}
	}
}

// readTable parses a CSV/TSV export with encoding/csv and checks that every
// row has the header's width.
func readTable(data []byte, sep rune) ([][]string, error) {
	if len(data) == 0 {
		return nil, nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = sep
	r.LazyQuotes = false
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	for i, row := range rows {
		if len(row) != len(rows[0]) {
			return nil, fmt.Errorf("row %d has %d fields, header %d", i, len(row), len(rows[0]))
		}
	}
	return rows, nil
}

// cocoFile is the COCO layout.
type cocoFile struct {
	Images []struct {
		Width    float64 `json:"width"`
		Height   float64 `json:"height"`
		ID       int     `json:"id"`
		FileName string  `json:"file_name"`
	} `json:"images"`
	Categories []struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	} `json:"categories"`
	Annotations []struct {
		ID           int         `json:"id"`
		ImageID      int         `json:"image_id"`
		CategoryID   int         `json:"category_id"`
		Segmentation [][]float64 `json:"segmentation"`
		BBox         []float64   `json:"bbox"`
		Ignore       *int        `json:"ignore"`
		IsCrowd      *int        `json:"iscrowd"`
		Area         float64     `json:"area"`
	} `json:"annotations"`
	Info struct {
		Year        int    `json:"year"`
		Version     string `json:"version"`
		Contributor string `json:"contributor"`
	} `json:"info"`
}

// checkCOCO decodes a COCO file and checks ids and references.
func checkCOCO(data []byte) error {
	var c cocoFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return err
	}
	if !isASCII(data) {
		return fmt.Errorf("COCO result.json is not ASCII")
	}
	for i, im := range c.Images {
		if im.ID != i || im.Width <= 0 || im.Height <= 0 {
			return fmt.Errorf("image %d: id %d size %vx%v", i, im.ID, im.Width, im.Height)
		}
	}
	for i, cat := range c.Categories {
		if cat.ID != i || cat.Name == "" {
			return fmt.Errorf("category %d: %+v", i, cat)
		}
	}
	for i, a := range c.Annotations {
		if a.ID != i || a.ImageID < 0 || a.ImageID >= len(c.Images) || a.CategoryID < 0 || a.CategoryID >= len(c.Categories) {
			return fmt.Errorf("annotation %d references a missing image or category", i)
		}
		if len(a.BBox) != 4 || a.BBox[2] < 0 || a.BBox[3] < 0 || a.Ignore == nil || a.IsCrowd == nil {
			return fmt.Errorf("annotation %d: bad bbox %v", i, a.BBox)
		}
	}
	if c.Info.Version != "1.0" || c.Info.Contributor != "Label Studio" {
		return fmt.Errorf("info %+v", c.Info)
	}
	return nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// vocFile is the VOC layout.
type vocFile struct {
	XMLName  xml.Name `xml:"annotation"`
	Folder   string   `xml:"folder"`
	Filename string   `xml:"filename"`
	Size     struct {
		Width  string `xml:"width"`
		Height string `xml:"height"`
		Depth  int    `xml:"depth"`
	} `xml:"size"`
	Objects []struct {
		Name   string `xml:"name"`
		BndBox struct {
			XMin int `xml:"xmin"`
			YMin int `xml:"ymin"`
			XMax int `xml:"xmax"`
			YMax int `xml:"ymax"`
		} `xml:"bndbox"`
	} `xml:"object"`
}

// readVOC parses a VOC file and checks its boxes.
func readVOC(data []byte) (vocFile, error) {
	var v vocFile
	if err := xml.Unmarshal(data, &v); err != nil {
		return v, err
	}
	if v.Filename == "" || v.Size.Depth != 3 {
		return v, fmt.Errorf("filename %q depth %d", v.Filename, v.Size.Depth)
	}
	for _, o := range v.Objects {
		if o.BndBox.XMax < o.BndBox.XMin || o.BndBox.YMax < o.BndBox.YMin || o.Name == "" {
			return v, fmt.Errorf("object %+v", o)
		}
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		return v, fmt.Errorf("no final newline")
	}
	return v, nil
}

// checkYOLO parses a YOLO label file against classes.txt.
func checkYOLO(data, classes []byte) error {
	n := strings.Count(string(classes), "\n")
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 5 {
			return fmt.Errorf("line %q", sc.Text())
		}
		c, err := strconv.Atoi(f[0])
		if err != nil || c < 0 || c >= n {
			return fmt.Errorf("class %q of %d", f[0], n)
		}
		for _, s := range f[1:] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || v < 0 || v > 1 || math.IsNaN(v) {
				return fmt.Errorf("coordinate %q", s)
			}
		}
	}
	return sc.Err()
}

var conllLine = regexp.MustCompile(`^\S+ -X- _ (O|[BI]-\S+)$`)

// checkCoNLL checks the header and each token line.
func checkCoNLL(data []byte) error {
	lines := strings.Split(string(data), "\n")
	if lines[0] != "-DOCSTART- -X- O O" {
		return fmt.Errorf("first line %q", lines[0])
	}
	for _, l := range lines[1:] {
		if l != "" && !conllLine.MatchString(l) {
			return fmt.Errorf("line %q", l)
		}
	}
	if !strings.HasSuffix(string(data), "\n") {
		return fmt.Errorf("no final newline")
	}
	return nil
}

var npyHeaderRE = regexp.MustCompile(`^\{'descr': '\|u1', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \} *\n$`)

// readNPY is a minimal .npy reader for uint8 2-d arrays: it checks the
// magic, version, header and alignment, and returns shape and data.
func readNPY(b []byte) (h, w int, data []byte, err error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return 0, 0, nil, fmt.Errorf("bad magic")
	}
	if b[6] != 1 || b[7] != 0 {
		return 0, 0, nil, fmt.Errorf("version %d.%d", b[6], b[7])
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if len(b) < 10+hl {
		return 0, 0, nil, io.ErrUnexpectedEOF
	}
	if (10+hl)%64 != 0 {
		return 0, 0, nil, fmt.Errorf("data offset %d not 64-aligned", 10+hl)
	}
	m := npyHeaderRE.FindStringSubmatch(string(b[10 : 10+hl]))
	if m == nil {
		return 0, 0, nil, fmt.Errorf("header %q", b[10:10+hl])
	}
	h, _ = strconv.Atoi(m[1])
	w, _ = strconv.Atoi(m[2])
	data = b[10+hl:]
	if len(data) != h*w {
		return 0, 0, nil, fmt.Errorf("%d data bytes for shape (%d, %d)", len(data), h, w)
	}
	return h, w, data, nil
}
