package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
)

// Moving between stores (`klaxon migrate --to postgres`, and back): each
// store dumps everything it holds as Records in a form both share, and
// loads such records into an empty store, rebuilding its own indexes.
// Copy checks the result: the same count of each kind, and the same digest
// of every record.

// Record is one thing a store holds, in the form every store shares:
// Value is the thing's JSON (a body as klaxon's types encode it).
type Record struct {
	Kind  string          `json:"kind"`
	Value json.RawMessage `json:"value"`
}

// Record kinds, in the order a load needs them (incidents before their
// events).
const (
	KindCounter    = "counter"    // Counter: the next number of a sequence
	KindIncident   = "incident"   // bot.Incident
	KindEvent      = "event"      // bot.Event
	KindSeen       = "seen"       // Seen: a de-duplicated platform event id
	KindPage       = "page"       // bot.Page
	KindDelivery   = "delivery"   // bot.Delivery: one of a page's
	KindPageRef    = "page_ref"   // PageRef
	KindReminder   = "reminder"   // bot.Reminder
	KindFollowUp   = "followup"   // bot.FollowUp
	KindPostmortem = "postmortem" // Postmortem
	KindAlertKey   = "alert_key"  // AlertKey
	KindOnCall     = "oncall"     // bot.OnCallChange
	KindCursor     = "cursor"     // Cursor
	KindHeartbeat  = "heartbeat"  // bot.HeartbeatState
	KindNamed      = "named"      // Named
	KindProfile    = "profile"    // bot.Profile
	// KindPostmortemVersion is a bot.PostmortemVersion.
	KindPostmortemVersion = "postmortem_version"
	KindJob               = "job" // JobRecord
	// KindSubscriber is a bot.Subscriber: a status page subscription. Its
	// address is in exports, which only an administrator (who can read the
	// store) makes.
	KindSubscriber = "subscriber"
)

// Kinds lists the record kinds in load order.
var Kinds = []string{KindCounter, KindIncident, KindEvent, KindSeen, KindPage, KindDelivery, KindPageRef, KindReminder,
	KindFollowUp, KindPostmortem, KindAlertKey, KindOnCall, KindCursor, KindHeartbeat, KindNamed, KindProfile, KindSubscriber, KindPostmortemVersion, KindJob}

// Counter is the last number a sequence gave out: incident, followup, job.
type Counter struct {
	Name string `json:"name"`
	N    int64  `json:"n"`
}

// Seen is a de-duplication record.
type Seen struct {
	SourceID   string    `json:"source_id"`
	IncidentID uuid.UUID `json:"incident_id"`
	Seq        uint64    `json:"seq"`
	At         time.Time `json:"at"`
}

// PageRef links a chat message to a page.
type PageRef struct {
	Ref    string    `json:"ref"` // platform|channel|message
	PageID uuid.UUID `json:"page_id"`
}

// Postmortem is an incident's latest draft.
type Postmortem struct {
	IncidentID uuid.UUID `json:"incident_id"`
	Markdown   []byte    `json:"markdown"`
}

// AlertKey is the incident an alert group declared.
type AlertKey struct {
	Key        string    `json:"key"`
	IncidentID uuid.UUID `json:"incident_id"`
}

// Cursor is how far a periodic job has got.
type Cursor struct {
	Key string    `json:"key"`
	At  time.Time `json:"at"`
}

// Named is the message a job posted under its name.
type Named struct {
	Name string         `json:"name"`
	Ref  bot.MessageRef `json:"ref"`
}

// JobRecord is an outbox job, and whether it was asked for again while it
// ran (a coalescing job).
type JobRecord struct {
	Job    bot.Job `json:"job"`
	Wanted bool    `json:"wanted,omitempty"`
}

// NewRecord encodes v as a record of kind.
func NewRecord(kind string, v any) (Record, error) {
	b, err := json.Marshal(v)
	return Record{Kind: kind, Value: b}, err
}

// Dumper is a store that can dump and load itself.
type Dumper interface {
	// Dump calls fn with every record the store holds, from one snapshot.
	Dump(ctx context.Context, fn func(Record) error) error
	// Load writes records (in Kinds order) into an empty store.
	Load(ctx context.Context, records []Record) error
}

// A Loader writes dump records into one store. LoadRecord decodes each
// record and hands it to the method of its kind: kinds a bot.Tx method
// writes go through that method; the others come with the record's JSON,
// for stores that keep it as the body.
type Loader interface {
	LoadCounter(c Counter) error
	LoadIncident(inc *bot.Incident, body []byte) error
	LoadEvent(ev *bot.Event, body []byte) error
	LoadSeen(s Seen) error
	LoadPage(p *bot.Page) error
	LoadPageRef(r PageRef) error
	LoadFollowUp(f *bot.FollowUp, body []byte) error
	LoadHeartbeat(hb *bot.HeartbeatState, body []byte) error
	LoadJob(j JobRecord) error

	PutDelivery(d *bot.Delivery) error
	SetReminder(r bot.Reminder) error
	PutPostmortem(incidentID uuid.UUID, markdown []byte) error
	SetAlertIncident(key string, incidentID uuid.UUID) error
	AddOnCallChange(c *bot.OnCallChange) error
	SetCursor(key string, t time.Time) error
	NameMessage(name string, ref bot.MessageRef) error
	PutProfile(p *bot.Profile) error
	PutSubscriber(s *bot.Subscriber) error
	LoadPostmortemVersion(v bot.PostmortemVersion) error
}

// LoadRecord decodes r and writes it through l.
func LoadRecord(l Loader, r Record) error {
	switch r.Kind {
	case KindCounter:
		return load(r, l.LoadCounter)
	case KindIncident:
		return loadBody(r, l.LoadIncident)
	case KindEvent:
		return loadBody(r, l.LoadEvent)
	case KindSeen:
		return load(r, l.LoadSeen)
	case KindPage:
		return loadBody(r, func(p *bot.Page, _ []byte) error { return l.LoadPage(p) })
	case KindDelivery:
		return loadBody(r, func(d *bot.Delivery, _ []byte) error { return l.PutDelivery(d) })
	case KindPageRef:
		return load(r, l.LoadPageRef)
	case KindReminder:
		return load(r, l.SetReminder)
	case KindFollowUp:
		return loadBody(r, l.LoadFollowUp)
	case KindPostmortem:
		return load(r, func(pm Postmortem) error { return l.PutPostmortem(pm.IncidentID, pm.Markdown) })
	case KindAlertKey:
		return load(r, func(ak AlertKey) error { return l.SetAlertIncident(ak.Key, ak.IncidentID) })
	case KindOnCall:
		return loadBody(r, func(c *bot.OnCallChange, _ []byte) error { return l.AddOnCallChange(c) })
	case KindCursor:
		return load(r, func(c Cursor) error { return l.SetCursor(c.Key, c.At) })
	case KindHeartbeat:
		return loadBody(r, l.LoadHeartbeat)
	case KindNamed:
		return load(r, func(n Named) error { return l.NameMessage(n.Name, n.Ref) })
	case KindPostmortemVersion:
		return load(r, l.LoadPostmortemVersion)
	case KindProfile:
		return loadBody(r, func(p *bot.Profile, _ []byte) error { return l.PutProfile(p) })
	case KindSubscriber:
		return loadBody(r, func(s *bot.Subscriber, _ []byte) error { return l.PutSubscriber(s) })
	case KindJob:
		return load(r, l.LoadJob)
	}
	return fmt.Errorf("unknown record kind %q", r.Kind)
}

func load[T any](r Record, fn func(T) error) error {
	var v T
	if err := json.Unmarshal(r.Value, &v); err != nil {
		return err
	}
	return fn(v)
}

func loadBody[T any](r Record, fn func(*T, []byte) error) error {
	return load(r, func(v T) error { return fn(&v, r.Value) })
}

// Tally is what a dump holds: records per kind, and a digest of them all
// (sorted, so the order a store dumps in does not matter).
type Tally struct {
	Counts map[string]int
	Digest string
}

// Summarize reads every record of d.
func Summarize(ctx context.Context, d Dumper) (Tally, []Record, error) {
	var recs []Record
	err := d.Dump(ctx, func(r Record) error { recs = append(recs, r); return nil })
	if err != nil {
		return Tally{}, nil, err
	}
	t := Tally{Counts: map[string]int{}}
	lines := make([][]byte, len(recs))
	for i, r := range recs {
		t.Counts[r.Kind]++
		lines[i] = append(append([]byte(r.Kind+" "), r.Value...), '\n')
	}
	slices.SortFunc(lines, bytes.Compare)
	h := sha256.New()
	for _, l := range lines {
		h.Write(l)
	}
	t.Digest = hex.EncodeToString(h.Sum(nil))
	slices.SortStableFunc(recs, func(a, b Record) int { return slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind) })
	return t, recs, nil
}

// Copy copies everything from into the empty store to and checks it
// arrived whole: the same records of each kind, the same digest.
func Copy(ctx context.Context, from, to Dumper) (Tally, error) {
	src, recs, err := Summarize(ctx, from)
	if err != nil {
		return Tally{}, fmt.Errorf("reading the source: %w", err)
	}
	if err := to.Load(ctx, recs); err != nil {
		return Tally{}, fmt.Errorf("writing the destination: %w", err)
	}
	dst, _, err := Summarize(ctx, to)
	if err != nil {
		return Tally{}, fmt.Errorf("reading the destination back: %w", err)
	}
	if dst.Digest != src.Digest {
		return Tally{}, fmt.Errorf("the copy differs from the source (records %v, copied %v): nothing should use the destination", src.Counts, dst.Counts)
	}
	return src, nil
}
