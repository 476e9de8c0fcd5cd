// Package tickets makes follow-ups into tickets in GitHub or Jira, keeps
// their state with the follow-ups' (outbox jobs), and brings changes made
// in the tracker back (Sync).
package tickets

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/outbox"
)

// Routes says which tracker a follow-up's ticket goes to: its
// incident's service's, else Default; no tracker, no ticket.
type Routes struct {
	Default   string
	ByService map[string]string // service id → tracker id
	// Private says, by tracker id, what of a private incident's follow-up
	// may go there; missing: nothing (PrivateNever).
	Private map[string]Private
}

// Private is what a tracker may receive of a private incident's
// follow-ups.
type Private string

// What a tracker may receive of a private incident's follow-ups.
const (
	PrivateNever        Private = "never"         // no ticket at all (the default)
	PrivateWithoutTitle Private = "without_title" // the follow-up, not the incident's title
	PrivateWithTitle    Private = "with_title"    // as for any incident
)

// For returns the tracker for an incident of service, or "".
func (r Routes) For(service string) string {
	if id, ok := r.ByService[service]; ok {
		return id
	}
	return r.Default
}

// ForIncident returns the tracker for a follow-up of inc, or "", and,
// when a private incident's follow-ups may not go to its tracker, that
// tracker's id in refused.
func (r Routes) ForIncident(inc *bot.Incident) (tracker, refused string) {
	id := r.For(inc.Service)
	if id == "" || !inc.Private {
		return id, ""
	}
	if p := r.Private[id]; p == PrivateWithoutTitle || p == PrivateWithTitle {
		return id, ""
	}
	return "", id
}

// titleFor is the incident title a ticket of inc may carry in tracker.
func (r Routes) titleFor(inc *bot.Incident, tracker string) string {
	if inc.Private && r.Private[tracker] != PrivateWithTitle {
		return "(private incident)"
	}
	return inc.Title
}

// ticketQueue is a follow-up's queue of tracker jobs: its ticket is made
// before its state is set.
func ticketQueue(f *bot.FollowUp) string { return "ticket:" + f.ID.String() }

// Jobs are what a new or changed follow-up asks of its tracker: the
// ticket made (when new), or its state set to the follow-up's. A
// follow-up without a tracker, or whose ticket was refused, asks nothing.
func Jobs(f *bot.FollowUp, op bot.JobOp, now time.Time) []bot.Job {
	if f.Ticket == nil || f.Ticket.Failed {
		return nil
	}
	return []bot.Job{{Queue: ticketQueue(f), Op: op, FollowUp: f.Number, Tracker: f.Ticket.Tracker, IncidentID: f.IncidentID,
		NextAttempt: now, Created: now}}
}

// Store is what Tickets reads and writes.
type Store interface {
	bot.Updater
	bot.FollowUpStore
	Incident(ctx context.Context, id uuid.UUID) (*bot.Incident, error)
	Cursor(ctx context.Context, key string) (time.Time, bool, error)
}

var _ outbox.Sender = (*Tickets)(nil)

// Tickets makes follow-ups into tickets, closes and reopens them with
// their follow-ups (jobs in the outbox), and closes or reopens follow-ups
// whose tickets changed in their tracker (Sync).
type Tickets struct {
	store    Store
	clock    bot.Clock
	log      zerolog.Logger
	trackers map[string]bot.Tracker
	routes   Routes
	wake     *bot.Wake
}

// New returns the ticket sender and sync over the configured
// trackers, or nil when there are none. wake tells the outbox that the
// sync queued work.
func New(store Store, clock bot.Clock, log zerolog.Logger, trackers map[string]bot.Tracker, routes Routes, wake *bot.Wake) *Tickets {
	if len(trackers) == 0 {
		return nil
	}
	return &Tickets{store: store, clock: clock, log: log.With().Str("component", "tickets").Logger(), trackers: trackers, routes: routes, wake: wake}
}

// Send implements outbox.Sender for bot.OpTicket and bot.OpTicketState.
func (t *Tickets) Send(ctx context.Context, j bot.Job, again bool) (outbox.Then, error) {
	tr, ok := t.trackers[j.Tracker]
	if !ok {
		return nil, bot.Errorf(bot.EREFUSED, "the tracker %q is no longer configured", j.Tracker)
	}
	f, err := t.store.FollowUp(ctx, j.FollowUp)
	if err != nil {
		return nil, err
	}
	if j.Op == bot.OpTicketState {
		return t.setState(ctx, tr, f)
	}
	return t.create(ctx, tr, f, j, again)
}

// create makes f's ticket; an attempt that may follow one that acted
// looks for that one's ticket first, so a crash between the tracker's
// answer and its record never makes a second. Where the tracker's lookup
// lags behind its writes (Jira), "not found" counts only once the lag has
// passed since that attempt began; until then the job waits.
func (t *Tickets) create(ctx context.Context, tr bot.Tracker, f *bot.FollowUp, j bot.Job, again bool) (outbox.Then, error) {
	if f.Ticket.Made() {
		return nil, nil
	}
	inc, err := t.store.Incident(ctx, f.IncidentID)
	if err != nil {
		return nil, err
	}
	is := bot.TicketIssue{FollowUp: f.ID, Key: f.Key(), Text: f.Text, Incident: f.Incident, IncidentTitle: t.routes.titleFor(inc, f.Ticket.Tracker),
		Owner: f.Owner.Name, Due: f.Due, Created: f.Created}
	var (
		tk    bot.Ticket
		found bool
	)
	if again {
		tk, found, err = tr.Find(ctx, is)
		if err == nil && !found {
			err = t.searchCaughtUp(tr, j)
		}
	}
	if err == nil && !found {
		tk, err = tr.Create(ctx, is)
	}
	if err != nil {
		if transient, _ := bot.Transient(err); transient {
			return nil, err
		}
		// Refused for good: the follow-up says so, and so does the channel.
		return t.record(f.Number, func(tx bot.Tx, f *bot.FollowUp) error {
			f.Ticket.Failed = true
			return t.tell(tx, inc, fmt.Sprintf("⚠️ klaxon could not make a ticket for %s: %s", f.Key(), bot.ErrorMessage(err)))
		}), err
	}
	return t.record(f.Number, func(tx bot.Tx, f *bot.FollowUp) error {
		*f.Ticket = tk // as the tracker has it; a state job after this one brings it to the follow-up's state
		return t.tell(tx, inc, fmt.Sprintf("🎫 %s → %s", f.Key(), Link(f.Ticket)))
	}), nil
}

// searchCaughtUp says, as a transient error carrying the wait, that tr's
// lookup may still miss a ticket made by the attempt that began at
// j.ActedAt; nil once its SearchLag has passed since then.
func (t *Tickets) searchCaughtUp(tr bot.Tracker, j bot.Job) error {
	if j.ActedAt.IsZero() {
		return nil
	}
	wait := j.ActedAt.Add(tr.SearchLag()).Sub(t.clock.Now())
	if wait <= 0 {
		return nil
	}
	return &bot.Error{Code: bot.EUNAVAILABLE, RetryAfter: wait,
		Message: fmt.Sprintf("%s's search may not show yet a ticket made at %s; klaxon looks again before making one", j.Tracker, j.ActedAt.UTC().Format("15:04:05 UTC"))}
}

// setState closes or reopens f's ticket to match f as it is now.
func (t *Tickets) setState(ctx context.Context, tr bot.Tracker, f *bot.FollowUp) (outbox.Then, error) {
	if !f.Ticket.Made() || f.Ticket.Closed == f.Done {
		return nil, nil
	}
	closed := f.Done
	if err := tr.SetClosed(ctx, f.Ticket.ID, closed); err != nil {
		return nil, err
	}
	return t.record(f.Number, func(_ bot.Tx, f *bot.FollowUp) error {
		f.Ticket.Closed = closed
		return nil
	}), nil
}

// record changes follow-up n's ticket with fn, in the transaction that
// records the job's outcome.
func (t *Tickets) record(n int64, fn func(tx bot.Tx, f *bot.FollowUp) error) outbox.Then {
	return func(tx bot.Tx, _ bot.Job) error {
		f, err := tx.FollowUp(n)
		if err != nil {
			return err
		}
		if f.Ticket == nil {
			return nil
		}
		if err := fn(tx, f); err != nil {
			return err
		}
		return tx.PutFollowUp(f)
	}
}

// tell posts text in the incident's channel, when it has one.
func (t *Tickets) tell(tx bot.Tx, inc *bot.Incident, text string) error {
	cur, err := tx.Incident(inc.ID)
	if err != nil || cur.Channel.IsZero() {
		return err
	}
	j := bot.IncidentJob(cur, bot.OpPost, t.clock.Now())
	j.Message = bot.Message{Text: text}
	return tx.Enqueue(j)
}

// Link shows a ticket by its reference and URL (which every
// platform makes a link).
func Link(tk *bot.Ticket) string {
	u := bot.WebLink(tk.URL)
	if u == "" {
		return tk.Ref
	}
	return tk.Ref + " " + u
}

// syncOverlap reads each tracker a little further back than its cursor:
// a change the tracker records as made just before the last read may
// reach its listing after it.
const syncOverlap = 2 * time.Minute

// Sync reads, for each tracker, the tickets changed since its last read,
// and closes or reopens the follow-ups whose tickets were closed or
// reopened there (not those klaxon itself changed: it records the state
// it set). It returns how many follow-ups changed. The leader runs it
// every few minutes; no public URL is needed.
func (t *Tickets) Sync(ctx context.Context) int {
	changed := 0
	for id, tr := range t.trackers {
		n, err := t.syncOne(ctx, id, tr)
		if err != nil {
			t.log.Warn().Err(err).Str("tracker", id).Msg("reading the tracker's changes; trying again at the next sync")
			continue
		}
		changed += n
	}
	if changed > 0 {
		t.wake.Jobs()
	}
	return changed
}

func (t *Tickets) syncOne(ctx context.Context, id string, tr bot.Tracker) (int, error) {
	key := "tracker:" + id
	now := t.clock.Now()
	since, ok, err := t.store.Cursor(ctx, key)
	if err != nil {
		return 0, err
	}
	if !ok {
		since = now.Add(-24 * time.Hour) // the first sync looks back a day
	}
	from := since.Add(-syncOverlap)
	states, more, err := tr.Changed(ctx, from)
	if err != nil {
		return 0, err
	}
	// A read that stopped at its bound is carried on by the next sync
	// from the last change it read (trackers list oldest first): the
	// cursor is set so that the next read begins there, without overlap.
	cursor := now
	if more {
		if n := len(states); n > 0 && states[n-1].Updated.After(from) {
			cursor = states[n-1].Updated.Add(syncOverlap)
			t.log.Warn().Str("tracker", id).Int("tickets", n).Time("through", states[n-1].Updated).Msg("more tickets changed than one sync reads; the next sync goes on from there")
		} else {
			t.log.Error().Str("tracker", id).Int("tickets", n).Msg("more tickets changed at one moment than one sync reads; changes past them are missed")
		}
	}
	byID := map[string]bool{}
	for _, s := range states {
		byID[s.ID] = s.Closed
	}
	all, err := t.store.FollowUps(ctx)
	if err != nil {
		return 0, err
	}
	var numbers []int64
	for _, f := range all {
		if closed, ok := byID[ticketIDOf(f, id)]; ok && f.Ticket.Closed != closed {
			numbers = append(numbers, f.Number)
		}
	}
	changed := 0
	err = t.store.Update(ctx, func(tx bot.Tx) error {
		changed = 0
		for _, n := range numbers {
			f, err := tx.FollowUp(n)
			if err != nil {
				return err
			}
			closed, ok := byID[ticketIDOf(f, id)]
			if !ok || f.Ticket.Closed == closed {
				continue // changed since it was read
			}
			if err := t.followTicket(tx, f, closed, now); err != nil {
				return err
			}
			changed++
		}
		return tx.SetCursor(key, cursor)
	})
	return changed, err
}

// ticketIDOf is f's ticket's id in tracker id, or "".
func ticketIDOf(f *bot.FollowUp, tracker string) string {
	if !f.Ticket.Made() || f.Ticket.Tracker != tracker {
		return ""
	}
	return f.Ticket.ID
}

// followTicket closes or reopens f because its ticket was closed or
// reopened in the tracker, and says so in the incident's channel.
func (t *Tickets) followTicket(tx bot.Tx, f *bot.FollowUp, closed bool, now time.Time) error {
	f.Ticket.Closed = closed
	verb := "reopened"
	if f.Done != closed {
		f.Done = closed
		if closed {
			verb = "closed"
			f.DoneAt, f.DoneBy = now, bot.User{Name: f.Ticket.Ref}
		} else {
			f.DoneAt, f.DoneBy = time.Time{}, bot.User{}
		}
	} else {
		verb = "" // the follow-up was already so: only the ticket's state is news
	}
	if err := tx.PutFollowUp(f); err != nil {
		return err
	}
	if verb == "" {
		return nil
	}
	inc, err := tx.Incident(f.IncidentID)
	if err != nil {
		return err
	}
	return t.tell(tx, inc, fmt.Sprintf("🎫 %s was %s in %s, so %s is %s.", Link(f.Ticket), verb, f.Ticket.Tracker, f.Key(), map[bool]string{true: "done", false: "open again"}[closed]))
}
