package server

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gofiber/fiber/v2"
)

// BackupTimeLayout formats the time in the name GET /api/backup gives its
// download: labelstudio-YYYY-MM-DD-HH-MM-SS.db.
const BackupTimeLayout = "2006-01-02-15-04-05"

// BackupFilename is the download name of a backup taken at the time
// formatted with BackupTimeLayout.
func BackupFilename(stamp string) string { return "labelstudio-" + stamp + ".db" }

// backup: GET /api/backup sends a consistent copy of the whole database
// file (every project) as an attachment while the server keeps serving.
//
// The copy is first written to a temporary file next to the database, in
// one read transaction, and then streamed from there with its length: a
// slow client never holds a read transaction open (which would keep bbolt
// from growing the file for writers), a failed copy is a clean 500 instead
// of a cut download, and a cut download is visible to the client.
//
// A multi-session server refuses it, since any browser session could
// otherwise download every other session's projects.
func (s *Server) backup(c *fiber.Ctx) error {
	if s.opts.MultiSession {
		return envelopeError(fiber.StatusForbidden, "Backups over HTTP are off in multi-session mode (any visitor could download every project): run labelstudio backup FILE on the server machine")
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.st.Path()), ".backup-download-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	body := &removeOnClose{File: tmp}
	n, err := s.st.Backup(tmp)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err == nil && int64(int(n)) != n {
		err = fmt.Errorf("the database (%d bytes) is too large to send from a 32-bit build", n)
	}
	if err != nil {
		_ = body.Close()
		return fmt.Errorf("backup: %w", err)
	}
	name := BackupFilename(s.opts.Now().Format(BackupTimeLayout))
	c.Set(fiber.HeaderContentType, fiber.MIMEOctetStream)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	// The response closes the body when it is sent or dropped, which
	// removes the temporary file.
	c.Context().SetBodyStream(body, int(n))
	return nil
}

// removeOnClose is a temporary file that is deleted when closed.
type removeOnClose struct {
	*os.File
}

// Close closes and removes the file.
func (f *removeOnClose) Close() error {
	err := f.File.Close()
	if rerr := os.Remove(f.Name()); err == nil && !os.IsNotExist(rerr) {
		err = rerr
	}
	return err
}
