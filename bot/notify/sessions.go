package notify

import (
	"context"
	"errors"
	"sync"
	"time"

	mail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/klaxon-bot/klaxon/bot"
)

// SMTP sessions are kept open between mails, as a browser keeps its
// connections: a mail on a new session costs a connection, EHLO,
// STARTTLS (a TLS handshake) and AUTH before it is sent; on an open one,
// MAIL, RCPT and DATA. A status page update to 10,000 subscribers, or a
// team paged by email, would otherwise open a session for every mail
// (and relays limit how often one may).
const (
	// maxIdleSessions is as many as the outbox sends at once to one
	// destination other than a pager.
	maxIdleSessions = bot.MaxInFlightOther
	// sessionIdle closes a session nobody used for that long, well
	// before a server would (RFC 5321 asks servers to wait 5 minutes).
	sessionIdle = 30 * time.Second
)

// sessions is an Email's open SMTP sessions, the most recently used
// last. The zero value has none.
type sessions struct {
	mu     sync.Mutex
	client *mail.Client // settings shared by every session
	idle   []session
	sweep  *time.Timer
}

type session struct {
	c    *smtp.Client
	used time.Time
}

// send sends msg on an open session if there is one, else on a new one,
// and keeps the session for the next mail if it is still good. A kept
// session the server has closed meanwhile fails its check (NOOP) before
// anything is sent: the mail goes on a new session instead.
func (s *sessions) send(ctx context.Context, newClient func() (*mail.Client, error), msg *mail.Msg) error {
	client, err := s.settings(newClient)
	if err != nil {
		return err
	}
	for {
		sc, reused := s.take()
		if sc == nil {
			if sc, err = client.DialToSMTPClientWithContext(ctx); err != nil {
				return err
			}
		}
		err = client.SendWithSMTPClient(sc, msg)
		if err == nil {
			s.put(sc)
			return nil
		}
		_ = client.CloseWithSMTPClient(sc)
		var se *mail.SendError
		if reused && errors.As(err, &se) && se.Reason == mail.ErrConnCheck {
			continue // a stale session: nothing was sent on it
		}
		return err
	}
}

// settings returns the client that dials sessions, made once.
func (s *sessions) settings(newClient func() (*mail.Client, error)) (*mail.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		c, err := newClient()
		if err != nil {
			return nil, err
		}
		s.client = c
	}
	return s.client, nil
}

// take returns the most recently used open session, or nil.
func (s *sessions) take() (*smtp.Client, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(time.Now())
	if len(s.idle) == 0 {
		return nil, false
	}
	last := s.idle[len(s.idle)-1]
	s.idle = s.idle[:len(s.idle)-1]
	return last.c, true
}

// put keeps sc open for the next mail, unless enough are kept already.
func (s *sessions) put(sc *smtp.Client) {
	s.mu.Lock()
	if len(s.idle) >= maxIdleSessions {
		client := s.client
		s.mu.Unlock()
		_ = client.CloseWithSMTPClient(sc)
		return
	}
	s.idle = append(s.idle, session{c: sc, used: time.Now()})
	if s.sweep == nil {
		s.sweep = time.AfterFunc(sessionIdle, s.expireIdle)
	}
	s.mu.Unlock()
}

// expireIdle closes the sessions idle for sessionIdle, and comes back
// while some are open.
func (s *sessions) expireIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(time.Now())
	if len(s.idle) == 0 {
		s.sweep = nil
		return
	}
	s.sweep.Reset(time.Until(s.idle[0].used.Add(sessionIdle)))
}

// expire closes the sessions idle since before now - sessionIdle. The
// oldest come first. s.mu is held; QUIT waits for the server, so the
// sessions are closed in the background.
func (s *sessions) expire(now time.Time) {
	n := 0
	for n < len(s.idle) && now.Sub(s.idle[n].used) >= sessionIdle {
		n++
	}
	if n == 0 {
		return
	}
	old := append([]session(nil), s.idle[:n]...)
	s.idle = append(s.idle[:0], s.idle[n:]...)
	client := s.client
	go func() {
		for _, o := range old {
			_ = client.CloseWithSMTPClient(o.c)
		}
	}()
}
