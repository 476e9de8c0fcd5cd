package notify

import (
	"testing"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// Sessions idle for sessionIdle are closed, the oldest first, and no
// more than maxIdleSessions are kept.
func TestSessionsExpireAndCap(t *testing.T) {
	c, err := mail.NewClient("localhost")
	if err != nil {
		t.Fatal(err)
	}
	s := &sessions{client: c}
	t0 := time.Now()
	s.idle = []session{{c: &smtp.Client{}, used: t0}, {c: &smtp.Client{}, used: t0.Add(20 * time.Second)}}
	s.expire(t0.Add(sessionIdle - time.Second))
	if len(s.idle) != 2 {
		t.Fatalf("%d sessions kept before any was idle for %v, want 2", len(s.idle), sessionIdle)
	}
	s.expire(t0.Add(sessionIdle))
	if len(s.idle) != 1 || !s.idle[0].used.Equal(t0.Add(20*time.Second)) {
		t.Fatalf("after %v: %+v, want the newer session only", sessionIdle, s.idle)
	}

	s.idle = nil
	for range maxIdleSessions + 3 {
		s.put(&smtp.Client{})
	}
	if len(s.idle) != maxIdleSessions {
		t.Errorf("%d sessions kept, want at most %d", len(s.idle), maxIdleSessions)
	}
	s.mu.Lock()
	s.sweep.Stop()
	s.mu.Unlock()
}
