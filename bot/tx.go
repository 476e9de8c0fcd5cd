package bot

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Tx is one write transaction: everything a change touches, committed
// together. The function given to Store.Update may run more than once
// (group commit re-runs the others when one fails), so it must only read
// and write through tx and keep no state of its own across runs.
type Tx interface {
	Incident(id uuid.UUID) (*Incident, error)
	// CreateIncident numbers inc and writes it with its events.
	CreateIncident(inc *Incident, events ...Event) error
	// PutIncident replaces the stored incident (by id), keeping its number.
	PutIncident(inc *Incident) error
	// AppendEvents adds events to the incident's timeline (once per source id).
	AppendEvents(incidentID uuid.UUID, events ...Event) error
	// Page reads a page; Pages reads an incident's pages, oldest first.
	Page(id uuid.UUID) (*Page, error)
	Pages(incidentID uuid.UUID) ([]*Page, error)
	// PutPage writes a page (new or changed) and moves its timer.
	PutPage(p *Page) error
	// Delivery reads a page's delivery by key (nil when there is none);
	// Deliveries reads the page's deliveries whose keys start with prefix
	// (all of them when it is empty), in key order. PutDelivery adds or
	// replaces one (by PageID and Key); its page must exist.
	Delivery(pageID uuid.UUID, key string) (*Delivery, error)
	Deliveries(pageID uuid.UUID, prefix string) ([]Delivery, error)
	PutDelivery(d *Delivery) error
	// Enqueue adds jobs to the outbox, each at the end of its queue. A job
	// that coalesces is not added while one like it is pending.
	Enqueue(jobs ...Job) error
	// CancelJobs drops the pending jobs of queue. One in flight finishes;
	// its outcome is recorded only if it succeeded.
	CancelJobs(queue string) error
	// SetReminder schedules (or, with a zero time, cancels) a reminder.
	SetReminder(r Reminder) error
	// AddFollowUp numbers f and stores it with ev on its incident's timeline.
	AddFollowUp(f *FollowUp, ev Event) error
	// FollowUp reads a follow-up; PutFollowUp replaces it (by number).
	FollowUp(number int64) (*FollowUp, error)
	PutFollowUp(f *FollowUp) error
	// PutPostmortem stores the incident's latest postmortem draft.
	PutPostmortem(incidentID uuid.UUID, markdown []byte) error
	// SetAlertIncident remembers the incident an alert group declared;
	// AlertIncident reads it (inside the transaction, so replicas
	// receiving the same alert at once declare it once).
	SetAlertIncident(key string, incidentID uuid.UUID) error
	AlertIncident(key string) (uuid.UUID, bool, error)
	// AddOnCallChange appends c to the on-call history (never replacing).
	AddOnCallChange(c *OnCallChange) error
	// SetCursor records how far the periodic job key has got.
	SetCursor(key string, t time.Time) error
	// NameMessage records the message a job posted under the job's Name.
	NameMessage(name string, ref MessageRef) error
	// LinkPage remembers that a chat message is about a page, so a
	// reaction on it acknowledges the page.
	LinkPage(p Platform, ref MessageRef, pageID uuid.UUID) error
	// Profile reads what person set in chat about reaching them (an
	// empty profile when nothing); PutProfile replaces it.
	Profile(person string) (*Profile, error)
	PutProfile(p *Profile) error
	// AddPostmortemVersion numbers v after the incident's last version,
	// stores it, and makes it the incident's postmortem (PutPostmortem);
	// LatestPostmortemVersion reads the newest, if any.
	AddPostmortemVersion(v *PostmortemVersion) error
	LatestPostmortemVersion(incidentID uuid.UUID) (*PostmortemVersion, bool, error)
	// PutSession writes a web console session; DeleteSession ends one.
	PutSession(s *Session) error
	DeleteSession(id string) error
	// Subscribers reads up to limit confirmed status page subscriptions
	// whose ID sorts after after, in ID order (limit 0: all of them);
	// PutSubscriber adds or replaces one (by ID), DeleteSubscriber ends
	// one (none: nothing to do).
	Subscribers(after string, limit int) ([]*Subscriber, error)
	PutSubscriber(s *Subscriber) error
	DeleteSubscriber(id string) error
	// Idempotency reads the record of an API write's key (nil when there
	// is none); PutIdempotency writes one, DeleteIdempotency drops one.
	Idempotency(key string) (*IdempotencyRecord, error)
	PutIdempotency(r *IdempotencyRecord) error
	DeleteIdempotency(key string) error
}

// Updater runs a change in one write transaction.
type Updater interface {
	// Update runs fn in a write transaction and returns once it is
	// committed and synced, or fn's error with nothing written.
	Update(ctx context.Context, fn func(tx Tx) error) error
}
