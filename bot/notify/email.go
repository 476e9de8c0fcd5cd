package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/klaxon-bot/klaxon/bot"
)

// SMTP security modes.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS, which must succeed (port 587)
	SMTPTLS      = "tls"      // TLS from the first byte (port 465)
	SMTPNone     = "none"     // no encryption: a relay on localhost only
)

// Email sends pages as email over SMTP, through go-mail (STARTTLS or
// TLS, authentication, RFC 5322 messages).
type Email struct {
	Host     string
	Port     int
	Security string // SMTPStartTLS (default), SMTPTLS or SMTPNone
	Username string
	Password string
	From     string
	// TLS overrides the TLS settings (a test's own CA).
	TLS       *tls.Config
	PublicURL string
	Links     *Links
	// IncidentURL is where the mail links the incident; empty: nowhere.
	IncidentURL func(d bot.Delivery) string
	Now         func() time.Time

	sessions sessions // kept open between mails
}

var _ bot.Sender = (*Email)(nil)

// clientError is a client that could not be made from the settings.
type clientError struct{ err error }

func (c clientError) Error() string { return c.err.Error() }

// client makes the client that dials sessions, from the settings: a
// clientError when they are wrong.
func (e *Email) client() (*mail.Client, error) {
	opts := []mail.Option{mail.WithPort(e.Port), mail.WithTimeout(10 * time.Second)}
	switch e.Security {
	case SMTPTLS:
		opts = append(opts, mail.WithSSL())
	case SMTPNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if e.TLS != nil {
		opts = append(opts, mail.WithTLSConfig(e.TLS))
	}
	if e.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(e.Username), mail.WithPassword(e.Password))
	}
	c, err := mail.NewClient(e.Host, opts...)
	if err != nil {
		return nil, clientError{err}
	}
	return c, nil
}

// Message is the mail for d: subject and plain text.
func (e *Email) Message(d bot.Delivery) (subject, body string) {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	if d.Kind == bot.DeliverMessage {
		first, _, _ := strings.Cut(d.Summary, ".")
		return "klaxon: " + first, d.Summary + "\n\n-- \nklaxon. Your notification rules: /oncall notify\n"
	}
	subject = "📟 Paged: " + d.Summary
	var b strings.Builder
	fmt.Fprintf(&b, "klaxon is paging you.\n\n%s\n", d.Summary)
	if d.Detail != "" && !d.Private {
		fmt.Fprintf(&b, "%s\n", d.Detail)
	}
	if e.IncidentURL != nil {
		if u := e.IncidentURL(d); u != "" {
			fmt.Fprintf(&b, "\nThe incident: %s\n", u)
		}
	}
	if ack := AckURL(e.PublicURL, e.Links, d, now()); ack != "" {
		fmt.Fprintf(&b, "\nAcknowledge: %s\n(The link opens a page with an Acknowledge button; it works for you only, for this page.)\n", ack)
	} else {
		b.WriteString("\nAcknowledge in chat: press Acknowledge on the page message or react ✅ to it.\n")
	}
	b.WriteString("\n-- \nklaxon, because you are on call. Your notification rules: /oncall notify\n")
	return subject, b.String()
}

// Send implements bot.Sender: one mail.
func (e *Email) Send(ctx context.Context, d bot.Delivery) bot.SendResult {
	if d.Kind != bot.DeliverTrigger && d.Kind != bot.DeliverMessage {
		return bot.SendResult{Sent: true}
	}
	subject, body := e.Message(d)
	r := e.SendMail(ctx, d.Key, bot.Mail{To: d.To, Subject: subject, Body: body, Headers: map[string]string{string(mail.HeaderPriority): "urgent"}})
	if r.Sent {
		r.Progress = "sent"
	}
	return r
}

var _ bot.Mailer = (*Email)(nil)

// SendMail implements bot.Mailer: one plain-text mail, marked as sent by
// a machine (Auto-Submitted, RFC 3834), with the Message-ID of key.
func (e *Email) SendMail(ctx context.Context, key string, m bot.Mail) bot.SendResult {
	msg := mail.NewMsg()
	if err := msg.From(e.From); err != nil {
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("notifications.smtp.from: %w", err)}
	}
	if err := msg.To(m.To); err != nil {
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("%q is not an email address", m.To)}
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	msg.SetDate()
	msg.SetMessageIDWithValue(MessageID(key, e.From))
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	for _, k := range slices.Sorted(maps.Keys(m.Headers)) {
		msg.SetGenHeader(mail.Header(k), m.Headers[k])
	}
	err := e.sessions.send(ctx, e.client, msg)
	var ce clientError
	switch {
	case errors.As(err, &ce):
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("SMTP: %w", ce.err)}
	case err != nil && !msg.IsDelivered():
		// A failure after the server took the mail (the RSET that
		// follows it) is not one: sending again would send it twice.
		return smtpResult(err)
	}
	return bot.SendResult{Sent: true}
}

// MessageID is the Message-ID of the mail for the delivery key: the same
// on every attempt, so a mail system that keeps them can tell a repeat.
func MessageID(key, from string) string {
	h := sha256.Sum256([]byte(key))
	domain := "klaxon.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		domain = strings.Trim(from[at+1:], "> ")
	}
	return "klaxon." + hex.EncodeToString(h[:12]) + "@" + domain
}

// smtpResult classifies a failed send: a 5xx reply is a refusal for good
// (a rejected address, wrong credentials); anything else (4xx, no
// connection, a timeout) is tried again.
func smtpResult(err error) bot.SendResult {
	var se *mail.SendError
	code := 0
	if errors.As(err, &se) {
		code = se.ErrorCode()
	}
	msg := err.Error()
	if code == 0 {
		for _, c := range []string{"535", "550", "551", "552", "553", "554", "530", "534"} {
			if strings.Contains(msg, c+" ") {
				code = 500
			}
		}
	}
	if code >= 500 {
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("the SMTP server refused the mail: %s", bot.Cut(msg, 300))}
	}
	return bot.SendResult{Err: fmt.Errorf("the SMTP server did not take the mail yet: %s", bot.Cut(msg, 300))}
}

// Check connects and authenticates to the SMTP server without sending.
func (e *Email) Check(ctx context.Context) error {
	c, err := e.client()
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return err
	}
	return c.Close()
}
