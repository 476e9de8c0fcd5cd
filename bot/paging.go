package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TargetKind says whom a policy step pages.
type TargetKind string

// Target kinds.
const (
	TargetSchedule TargetKind = "schedule" // whoever is on call on the schedule
	TargetPerson   TargetKind = "person"   // one person
	TargetTeam     TargetKind = "team"     // everyone on the schedule's rotations
)

// Target is one entry of a policy step.
type Target struct {
	Kind TargetKind `json:"kind"`
	ID   string     `json:"id"`
}

// Step pages its targets, then waits Delay for an acknowledgement before
// the next step.
type Step struct {
	Targets []Target      `json:"targets"`
	Delay   time.Duration `json:"delay"`
}

// Policy is an escalation policy: steps, run Repeat+1 times in all.
// Pages keep a copy, so editing a policy does not change pages in flight.
type Policy struct {
	ID     string `json:"id"`
	Steps  []Step `json:"steps"`
	Repeat int    `json:"repeat"`
}

// Validate checks a policy.
func (p Policy) Validate() error {
	if len(p.Steps) == 0 {
		return fmt.Errorf("steps: at least one step is required")
	}
	for i, s := range p.Steps {
		if len(s.Targets) == 0 {
			return fmt.Errorf("steps[%d].targets: at least one target is required", i)
		}
		if s.Delay < time.Minute {
			return fmt.Errorf("steps[%d].delay: at least 1m", i)
		}
	}
	if p.Repeat < 0 || p.Repeat > 10 {
		return fmt.Errorf("repeat: between 0 and 10")
	}
	return nil
}

// Hours is a weekly window when low-priority pages may go out, e.g. a
// service's business hours.
type Hours struct {
	Zone string    `json:"zone"` // IANA time zone
	Days [7]bool   `json:"days"` // by time.Weekday
	From TimeOfDay `json:"from"`
	To   TimeOfDay `json:"to"`
}

// Next returns t if it falls inside the window, else the window's next
// start (the next business day when t is after hours or on a weekend).
func (h *Hours) Next(t time.Time) time.Time {
	loc, err := time.LoadLocation(h.Zone)
	if err != nil {
		loc = time.UTC
	}
	today := DateOf(t.In(loc))
	for d := 0; d <= 7; d++ {
		day := today.AddDays(d)
		if !h.Days[day.Weekday()] {
			continue
		}
		start, end := day.At(h.From, loc), day.At(h.To, loc)
		if !t.Before(start) && t.Before(end) {
			return t
		}
		if start.After(t) {
			return start
		}
	}
	return t // no day in the window: do not hold the page back
}

// PageStatus is where a page is.
type PageStatus string

// Page statuses.
const (
	PageTriggered    PageStatus = "triggered"    // escalating
	PageAcknowledged PageStatus = "acknowledged" // a human is on it
	PageResolved     PageStatus = "resolved"     // the incident was resolved
	PageExhausted    PageStatus = "exhausted"    // every step and repeat ran, nobody acknowledged
)

// Paged is one person paged at one step.
type Paged struct {
	Person string    `json:"person"`
	Step   int       `json:"step"`
	Loop   int       `json:"loop"`
	At     time.Time `json:"at"`
}

// Page is one escalation run for an incident. The messages to pagers
// and people it makes are its deliveries, each stored on its own
// (Tx.PutDelivery), so recording one outcome costs the same whether the
// page reached one person or a thousand.
type Page struct {
	ID         uuid.UUID  `json:"id"`
	IncidentID uuid.UUID  `json:"incident_id"`
	Incident   string     `json:"incident"` // INC-42, for messages
	Title      string     `json:"title"`
	Severity   Severity   `json:"severity"`
	Policy     Policy     `json:"policy"`          // a copy
	Hours      *Hours     `json:"hours,omitempty"` // low priority: steps wait for these hours
	Status     PageStatus `json:"status"`
	Step       int        `json:"step"` // the next step to fire
	Loop       int        `json:"loop"`
	NextAt     time.Time  `json:"next_at,omitzero"` // when the next step fires; zero when none will
	Paged      []Paged    `json:"paged,omitempty"`
	AckBy      string     `json:"ack_by,omitempty"` // person id
	AckAt      time.Time  `json:"ack_at,omitzero"`
	Created    time.Time  `json:"created"`
	// Messages are the chat messages about the page (DMs, channel
	// notices) with an Acknowledge button, so an acknowledgement or the
	// end of the incident can edit them.
	Messages []PostedRef `json:"messages,omitempty"`
}

// LinkPageMessage records in tx that the chat message ref is about page
// id: a reaction on it acknowledges the page, and the page's end edits it.
// It returns the page as written.
func LinkPageMessage(tx Tx, p Platform, ref MessageRef, id uuid.UUID) (*Page, error) {
	if err := tx.LinkPage(p, ref, id); err != nil {
		return nil, err
	}
	pg, err := tx.Page(id)
	if err != nil {
		return nil, err
	}
	pg.Messages = append(pg.Messages, PostedRef{Platform: p, Ref: ref})
	return pg, tx.PutPage(pg)
}

// Active reports whether the page still escalates.
func (p *Page) Active() bool { return p.Status == PageTriggered }

// Deferred reports whether the page's first step waits for business
// hours: nothing has been paged and the next step is after the page was
// made.
func (p *Page) Deferred() bool {
	return p.Step == 0 && p.Status == PageTriggered && p.NextAt.After(p.Created)
}

// WasPaged reports whether person was paged by p.
func (p *Page) WasPaged(person string) bool {
	for _, x := range p.Paged {
		if x.Person == person {
			return true
		}
	}
	return false
}

// Acknowledge stops the escalation. A page acknowledged or closed already
// refuses, so the first acknowledgement is the only one.
func (p *Page) Acknowledge(person string, at time.Time) error {
	// An exhausted page still has triggers open on the pagers: a late
	// acknowledgement closes them too.
	if p.Status != PageTriggered && p.Status != PageExhausted {
		return Errorf(ECONFLICT, "The page for %s is already %s.", p.Incident, p.Status)
	}
	p.Status, p.AckBy, p.AckAt, p.NextAt = PageAcknowledged, person, at, time.Time{}
	return nil
}

// Close stops the page because the incident was resolved.
func (p *Page) Close() {
	if p.Status == PageTriggered || p.Status == PageAcknowledged || p.Status == PageExhausted {
		p.Status, p.NextAt = PageResolved, time.Time{}
	}
}

// Advance moves past the step that just fired; what comes next is due
// after its delay. After the last step of the last round the page waits
// out that step's delay too, for the people it paged to acknowledge, and
// is then Spent.
func (p *Page) Advance(now time.Time) {
	delay := p.Policy.Steps[p.Step].Delay
	p.Step++
	if p.Step == len(p.Policy.Steps) && p.Loop < p.Policy.Repeat {
		p.Step, p.Loop = 0, p.Loop+1
	}
	p.NextAt = now.Add(delay)
	if p.Hours != nil {
		p.NextAt = p.Hours.Next(p.NextAt)
	}
}

// Spent reports whether every step of every round has fired: what falls
// due next is the end of the last step's wait.
func (p *Page) Spent() bool { return p.Step >= len(p.Policy.Steps) }

// Exhaust ends a spent page nobody acknowledged. Its triggers stay open
// on the pagers until someone acknowledges or the incident is resolved.
func (p *Page) Exhaust() { p.Status, p.NextAt = PageExhausted, time.Time{} }

// DeliveryKind is what a delivery tells a pager.
type DeliveryKind string

// Delivery kinds.
const (
	DeliverTrigger DeliveryKind = "trigger"
	DeliverAck     DeliveryKind = "acknowledge"
	DeliverResolve DeliveryKind = "resolve"
	// DeliverMessage is a message to a person, not a page: a verification
	// code or a test. Its Summary is sent as written.
	DeliverMessage DeliveryKind = "message"
)

// DeliveryStatus is where a delivery is.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending DeliveryStatus = "pending"
	DeliverySent    DeliveryStatus = "sent"
	DeliveryFailed  DeliveryStatus = "failed"
	// DeliveryCancelled is a trigger the page stopped needing (it was
	// acknowledged or resolved) before an attempt got through.
	DeliveryCancelled DeliveryStatus = "cancelled"
)

// Delivery is one message to one pager. It is stored under its page
// (PageID, Key) with how it went; the outbox carries it as a job (OpPage).
type Delivery struct {
	Key        string       `json:"key"`       // idempotency key: page:step:loop:person:pager[:kind]
	DedupKey   string       `json:"dedup_key"` // the trigger's key, shared by its ack and resolve
	PageID     uuid.UUID    `json:"page_id"`
	IncidentID uuid.UUID    `json:"incident_id"`
	Pager      string       `json:"pager"`
	Person     string       `json:"person"`
	Kind       DeliveryKind `json:"kind"`
	Summary    string       `json:"summary"`
	// Detail is where and by whom, for pagers that show it (a chat DM):
	// the service, the declarer, the incident's channel.
	Detail   string   `json:"detail,omitempty"`
	Severity Severity `json:"severity"`
	// To is where a notification goes (a phone number, an email address,
	// an ntfy topic) and Server the ntfy server, for the contact methods
	// klaxon sends itself; empty for pagers.
	To     string `json:"to,omitempty"`
	Server string `json:"server,omitempty"`
	// Private says the incident is private: what reaches a phone's lock
	// screen names only its number and severity (Summary is already so).
	Private bool `json:"private,omitempty"`
	// Created is when the delivery was made, so a provider without
	// idempotency keys can be asked what it sent since.
	Created time.Time      `json:"created,omitzero"`
	Status  DeliveryStatus `json:"status"`
	// Progress is the provider's latest word on a sent notification
	// (queued, delivered, failed, answered, no-answer) and when it came.
	Progress   string    `json:"progress,omitempty"`
	ProgressAt time.Time `json:"progress_at,omitzero"`
	// Ref is the provider's id for what it sent (a Twilio SID).
	Ref       string    `json:"ref,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	SentAt    time.Time `json:"sent_at,omitzero"`
}

// SendResult is what a pager made of one attempt.
type SendResult struct {
	Sent       bool          // the receiver accepted it (2xx)
	Permanent  bool          // it will never be accepted (4xx other than 429)
	RetryAfter time.Duration // the receiver asked to wait (429)
	Err        error         // what went wrong, for the log and the channel
	// Posted lists the chat messages the delivery made (a page by direct
	// message), so a reaction on them acknowledges the page.
	Posted []PostedRef
	// Ref is the provider's id for what it sent (a Twilio message or
	// call SID), and Progress its status then (queued, sent).
	Ref, Progress string
	// Earlier says an earlier attempt's delivery was found at the
	// provider (SendOnce), so nothing was sent this time.
	Earlier bool
}

// PostedRef is a message on a platform.
type PostedRef struct {
	Platform Platform
	Ref      MessageRef
}

// Sender delivers to one pager.
type Sender interface {
	Send(ctx context.Context, d Delivery) SendResult
}

// Looker is a sender whose provider keeps no idempotency key (Twilio):
// before an attempt that may repeat one whose outcome was lost, the
// outbox asks it whether the provider has it already.
type Looker interface {
	// Sent finds what d's earlier attempt sent, if the provider has it.
	Sent(ctx context.Context, d Delivery) (ref string, found bool, err error)
}

// SendTimeout bounds one attempt at a pager or provider.
const SendTimeout = 15 * time.Second

// SendOnce makes one attempt at d through s, bounded by SendTimeout and
// not cut short by a shutdown (an attempt the receiver took must be
// recorded as sent, or it would go out again). When an earlier attempt
// may have got through unrecorded (again) and s can be asked (a Looker:
// Twilio), it asks first, so the person gets the text once; a failed
// look-up is tried again later rather than risk a second one.
func SendOnce(ctx context.Context, s Sender, d Delivery, again bool) SendResult {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), SendTimeout)
	defer cancel()
	if l, ok := s.(Looker); ok && again && (d.Kind == DeliverTrigger || d.Kind == DeliverMessage) {
		ref, found, err := l.Sent(ctx, d)
		switch {
		case err != nil:
			return SendResult{Err: fmt.Errorf("could not ask whether an earlier attempt got through: %w", err)}
		case found:
			return SendResult{Sent: true, Ref: ref, Progress: "sent", Earlier: true}
		}
	}
	return s.Send(ctx, d)
}

// PageStore reads pages; they are written through Tx.
type PageStore interface {
	Page(ctx context.Context, id uuid.UUID) (*Page, error)
	PagesForIncident(ctx context.Context, incidentID uuid.UUID) ([]*Page, error)
	// PageDeliveries reads a page's deliveries, in key order.
	PageDeliveries(ctx context.Context, pageID uuid.UUID) ([]Delivery, error)
	// DuePages lists pages whose next step is due at now.
	DuePages(ctx context.Context, now time.Time) ([]uuid.UUID, error)
	// PageByRef finds the page a chat message (a page notice or DM) is
	// about, so a reaction on it can acknowledge.
	PageByRef(ctx context.Context, p Platform, ref MessageRef) (uuid.UUID, bool, error)
}
