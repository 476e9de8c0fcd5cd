package notify_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/notify"
)

// rsetFails is an SMTP server on 127.0.0.1 that takes every mail and
// then fails the RSET that follows it, dropping the connection (421).
type rsetFails struct {
	ln    net.Listener
	mu    sync.Mutex
	taken int
}

func startRsetFails(t *testing.T) *rsetFails {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rsetFails{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *rsetFails) serve(c net.Conn) {
	defer c.Close()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
	say("220 localhost ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-localhost")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), cmd == "NOOP":
			say("250 OK")
		case cmd == "DATA":
			say("354 go ahead")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			s.mu.Lock()
			s.taken++
			s.mu.Unlock()
			say("250 queued")
		case cmd == "RSET":
			say("421 closing")
			return
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 no")
		}
	}
}

func (s *rsetFails) Taken() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.taken
}

// TestEmailTakenIsSent: once the server has taken a mail (250 after
// DATA), a failure of the RSET that follows does not make it a failed
// send, which the outbox would send again.
func TestEmailTakenIsSent(t *testing.T) {
	srv := startRsetFails(t)
	e := &notify.Email{Host: "127.0.0.1", Port: srv.ln.Addr().(*net.TCPAddr).Port, Security: notify.SMTPNone, From: "klaxon@example.com"}
	res := e.SendMail(context.Background(), "k1", bot.Mail{To: "alice@example.com", Subject: "INC-1", Body: "resolved"})
	if srv.Taken() != 1 {
		t.Fatalf("the server took %d mails, want 1", srv.Taken())
	}
	if !res.Sent || res.Err != nil {
		t.Errorf("a mail the server took, then a failed RSET: %+v; want sent", res)
	}
	// The session is gone; the next mail goes on a new one.
	if res := e.SendMail(context.Background(), "k2", bot.Mail{To: "bob@example.com", Subject: "INC-2", Body: "resolved"}); !res.Sent || srv.Taken() != 2 {
		t.Errorf("the next mail: %+v, %d taken", res, srv.Taken())
	}
}
