package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// TestBufferSmallBody checks bufferSmallBody, which limitSmallBodies calls: a
// chunked body over the limit is refused, and a body the handler does not
// read does not spill into the next request of the connection.
func TestBufferSmallBody(t *testing.T) {
	s, _ := newTestServer(t)
	s = New(s.st, Options{Project: "test", SmallBodyLimit: 1 << 10})
	app := fiber.New(fiber.Config{DisableStartupMessage: true, StreamRequestBody: true, DisablePreParseMultipartForm: true, ErrorHandler: s.errorHandler})
	app.Use(func(c *fiber.Ctx) error {
		if err := s.bufferSmallBody(c); err != nil {
			return err
		}
		return c.Next()
	})
	app.Post("/ignore", func(c *fiber.Ctx) error { return c.SendString("ignored") })
	app.Post("/echo", func(c *fiber.Ctx) error { return c.Send(c.Body()) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.ShutdownWithTimeout(time.Second) })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	chunked := func(path string, size int) string {
		body := strings.Repeat("a", size)
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", path, len(body), body)
	}
	read := func() (int, string) {
		var status int
		var n int
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		fmt.Sscanf(line, "HTTP/1.1 %d", &status)
		for {
			h, _ := br.ReadString('\n')
			if h == "\r\n" || h == "" {
				break
			}
			fmt.Sscanf(strings.ToLower(h), "content-length: %d", &n)
		}
		b := make([]byte, n)
		io.ReadFull(br, b)
		return status, string(b)
	}
	// A body unread by the handler, then a second request on the same
	// connection.
	io.WriteString(conn, chunked("/ignore", 900)+chunked("/echo", 5))
	if st, b := read(); st != 200 || b != "ignored" {
		t.Fatalf("first: %d %q", st, b)
	}
	if st, b := read(); st != 200 || b != "aaaaa" {
		t.Fatalf("second: %d %q", st, b)
	}
	io.WriteString(conn, chunked("/echo", 4<<10))
	if st, b := read(); st != 413 || !strings.Contains(b, "1 KiB") {
		t.Fatalf("chunked over the limit: %d %q", st, b)
	}
}
