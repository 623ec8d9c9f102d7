package exports

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"labelstudio/store"
)

// asrFormat is ASR_MANIFEST (converter 0.0.23, not in Label Studio 0.8.1,
// exports.md §11): manifest.json in JSON Lines, one line
// {"audio_filepath": "audio/<file>", "duration": <seconds>, "text": ...}
// per task with a completion, and the audio files in audio/.
//
// The audio comes from Options.Media and its duration from the WAV header
// read while the file is copied. A task whose audio cannot be provided, is
// not a readable WAV file, or whose completion has no TextArea text is
// skipped and reported: a manifest line without a true duration would
// mislead the trainer.
type asrFormat struct{}

// Name returns "ASR_MANIFEST".
func (asrFormat) Name() string { return "ASR_MANIFEST" }

// Supports reports one data key, an Audio or AudioPlus input and a TextArea
// control.
func (asrFormat) Supports(s Schema) bool {
	return s.singleInput([]string{"Audio", "AudioPlus"}, "TextArea")
}

// Write writes manifest.json and audio/.
func (asrFormat) Write(zw *zip.Writer, tasks Iterator, s Schema, opts Options) error {
	a := newArchive(zw, opts)
	if err := a.dir("audio"); err != nil {
		return err
	}
	lines, err := newSpool()
	if err != nil {
		return err
	}
	defer lines.remove()
	durations := map[string]float64{}
	key := s.dataKey()
	var buf []byte
	err = tasks(func(t store.Task) error {
		it, ok := makeItem(t, s, &a.warn)
		if !ok {
			return nil
		}
		text, ok := transcript(it)
		if !ok {
			a.warn.add(it.id, "ASR_MANIFEST: completion has no TextArea text; skipped")
			return nil
		}
		value, _ := dataString(it.data, key)
		probe := &wavProbe{}
		entry, copied := a.copyMedia(opts, it.id, value, "audio", probe.wrap)
		if !copied {
			a.warn.add(it.id, "ASR_MANIFEST: audio %q is not available, so its duration is unknown; skipped", value)
			return nil
		}
		if probe.read {
			if d, ok := wavDuration(probe.head, probe.total); ok {
				durations[entry] = d
			}
		}
		d, ok := durations[entry]
		if !ok {
			a.warn.add(it.id, "ASR_MANIFEST: audio %q is not a WAV file with a readable duration; skipped", value)
			return nil
		}
		line := jsonObject{{"audio_filepath", entry}, {"duration", d}, {"text", text}}
		buf, err = appendPy(buf[:0], line, styleCompactUTF8, 0)
		if err != nil {
			return fmt.Errorf("task %d: %w", it.id, err)
		}
		buf = append(buf, '\n')
		_, err := lines.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	w, err := a.stream("manifest.json")
	if err != nil {
		return err
	}
	if err := lines.copyTo(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write manifest.json: %w", err)
	}
	return a.finish()
}

// transcript returns the first text of the item's first TextArea value.
func transcript(it item) (string, bool) {
	for _, v := range it.valuesOf("TextArea") {
		if texts := stringList(v.member("text")); len(texts) > 0 {
			return texts[0], true
		}
		return "", false
	}
	return "", false
}

// wavProbe keeps the head of a file while it is copied, and counts its
// length, to read a WAV header afterwards.
type wavProbe struct {
	head  []byte
	total int64
	read  bool
}

// wavHeadSize is how much of a file the probe keeps.
const wavHeadSize = 64 << 10

// wrap returns a reader that feeds the probe.
func (p *wavProbe) wrap(r io.Reader) io.Reader {
	p.read = true
	return probeReader{r: r, p: p}
}

type probeReader struct {
	r io.Reader
	p *wavProbe
}

// Read reads from the wrapped reader and records what passes.
func (pr probeReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	if room := wavHeadSize - len(pr.p.head); room > 0 {
		pr.p.head = append(pr.p.head, b[:min(n, room)]...)
	}
	pr.p.total += int64(n)
	return n, err
}

// wavDuration reads the duration in seconds of a RIFF/WAVE file from its
// head and total length: the data chunk's size over the fmt chunk's byte
// rate. A data size that is unset or runs past the end of the file (as
// streamed recordings write) is taken from the file length.
func wavDuration(head []byte, total int64) (float64, bool) {
	if len(head) < 12 || !bytes.Equal(head[0:4], []byte("RIFF")) || !bytes.Equal(head[8:12], []byte("WAVE")) {
		return 0, false
	}
	var byteRate uint32
	for pos := 12; pos+8 <= len(head); {
		id := string(head[pos : pos+4])
		size := binary.LittleEndian.Uint32(head[pos+4 : pos+8])
		body := pos + 8
		switch id {
		case "fmt ":
			if size < 16 || body+16 > len(head) {
				return 0, false
			}
			byteRate = binary.LittleEndian.Uint32(head[body+8 : body+12])
		case "data":
			if byteRate == 0 {
				return 0, false
			}
			n := int64(size)
			if rest := total - int64(body); n == 0 || n > rest {
				n = rest
			}
			if n < 0 {
				return 0, false
			}
			return float64(n) / float64(byteRate), true
		}
		next := int64(body) + int64(size) + int64(size%2)
		if next > int64(len(head)) {
			return 0, false
		}
		pos = int(next)
	}
	return 0, false
}
