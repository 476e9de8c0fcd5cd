package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Subscriber is a confirmed status page subscription by email. Only
// confirmed addresses are stored: a request waits in its confirmation
// link, so an address nobody confirmed leaves nothing behind.
type Subscriber struct {
	ID    string `json:"id"` // SubscriberID(Email)
	Email string `json:"email"`
	// Services are the service ids whose public incidents are mailed;
	// empty: every service (and incidents of no service).
	Services  []string  `json:"services,omitempty"`
	Confirmed time.Time `json:"confirmed"`
}

// SubscriberID is the id of the subscription of email: a hash of the
// address as it is compared (case-insensitive), so a second subscription
// of one address replaces the first, and the id names no address.
func SubscriberID(email string) string {
	h := sha256.Sum256([]byte("klaxon subscriber v1\x00" + strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(h[:16])
}

// Wants reports whether s gets the mails of an incident of service.
func (s *Subscriber) Wants(service string) bool {
	return len(s.Services) == 0 || slices.Contains(s.Services, service)
}

// SubscriberStore reads subscriptions (written through Tx.PutSubscriber).
type SubscriberStore interface {
	// CountSubscribers counts the confirmed subscriptions.
	CountSubscribers(ctx context.Context) (int, error)
}

// StatusNotice is what a status page change tells its subscribers: a
// public incident appeared, got a public update, was resolved or reopened.
type StatusNotice struct {
	What     string    `json:"what"` // NoticeNew, NoticeUpdate, NoticeResolved, NoticeReopened
	Key      string    `json:"key"`  // INC-7
	Title    string    `json:"title"`
	Service  string    `json:"service,omitempty"` // the service's id
	Severity string    `json:"severity"`          // "SEV1 (Critical)"
	Status   string    `json:"status"`            // as the status page says it: investigating, …
	Text     string    `json:"text,omitempty"`    // the public update
	At       time.Time `json:"at"`
	// After is the last subscriber (by ID) whose mail a part of the
	// notice already wrote: a notice to many subscribers is written in
	// parts, each continuing after the last.
	After string `json:"after,omitempty"`
}

// What a status notice tells.
const (
	NoticeNew      = "new"
	NoticeUpdate   = "update"
	NoticeResolved = "resolved"
	NoticeReopened = "reopened"
)

// Mail is one email klaxon sends on its own account (not a page): a
// subscription's confirmation or a status notice.
type Mail struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"` // plain text
	// Headers are added to the message (List-Unsubscribe, …).
	Headers map[string]string `json:"headers,omitempty"`
}

// Mailer sends a Mail; key names it, so every attempt of one mail has
// the same Message-ID.
type Mailer interface {
	SendMail(ctx context.Context, key string, m Mail) SendResult
}

// OnStatusPage reports whether inc shows on the public status page: not
// private, not unlisted (declared from an alert, until a public update),
// and of a type the status page shows.
func OnStatusPage(inc *Incident, types IncidentTypes) bool {
	if t, typed := types.Get(inc.Type); inc.Private || inc.Unlisted || typed && !t.StatusPage {
		return false
	}
	return true
}
