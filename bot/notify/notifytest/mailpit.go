package notifytest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Mailpit is a real SMTP server for tests: Mailpit (installed by .ci/run
// and the README's test set-up), run on 127.0.0.1 until the test ends,
// read through its HTTP API.
type Mailpit struct {
	SMTP string // host:port
	HTTP string // host:port of its API
	t    testing.TB
}

// MailpitMessage is a message as Mailpit's list shows it.
type MailpitMessage struct {
	ID      string
	Subject string
	To      []struct{ Address string }
}

// MailpitBody is one message: its text, Message-ID and headers.
type MailpitBody struct {
	Text      string
	MessageID string
	Headers   map[string][]string
}

// StartMailpit runs Mailpit with args added to its own (TLS, auth).
func StartMailpit(t testing.TB, args ...string) *Mailpit {
	t.Helper()
	bin := mailpitBinary(t)
	dir := t.TempDir()
	m := &Mailpit{SMTP: loopback(t), HTTP: loopback(t), t: t}
	cmd := exec.Command(bin, append([]string{"--smtp", m.SMTP, "--listen", m.HTTP, "--database", filepath.Join(dir, "mailpit.db"), "--smtp-disable-rdns"}, args...)...)
	logf, err := os.Create(filepath.Join(dir, "mailpit.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); logf.Close() })
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		c, err := net.Dial("tcp", m.SMTP)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "mailpit.log"))
			t.Fatalf("Mailpit did not start:\n%s", log)
		}
	}
	return m
}

// Port is the SMTP port.
func (m *Mailpit) Port() int {
	_, port, _ := net.SplitHostPort(m.SMTP)
	var n int
	fmt.Sscan(port, &n)
	return n
}

// Messages lists what Mailpit received, newest first.
func (m *Mailpit) Messages() []MailpitMessage {
	var list struct {
		Messages []MailpitMessage `json:"messages"`
	}
	m.get("/api/v1/messages", &list)
	return list.Messages
}

// Message reads one message with its headers.
func (m *Mailpit) Message(id string) MailpitBody {
	var b MailpitBody
	m.get("/api/v1/message/"+id, &b)
	m.get("/api/v1/message/"+id+"/headers", &b.Headers)
	return b
}

func (m *Mailpit) get(path string, v any) {
	m.t.Helper()
	resp, err := http.Get("http://" + m.HTTP + path)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		m.t.Fatalf("Mailpit %s: %v", path, err)
	}
}

func mailpitBinary(t testing.TB) string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("Mailpit is not installed: make integration installs it into ./bin (go install github.com/axllent/mailpit@v1.33.1)")
	return ""
}

func loopback(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
