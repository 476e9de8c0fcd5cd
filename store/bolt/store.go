// Package bolt is klaxon's embedded store: the whole state in one bbolt
// file, behind the contract of package store. It is the only package that
// imports bbolt.
//
// Layout (all keys big-endian, so cursor order is time order):
//
//	meta                   schema_version → uint64
//	incidents              id (UUIDv7, 16 bytes) → Incident JSON
//	incident_numbers       number (uint64) → id
//	incident_channels      platform "|" channel id → id
//	timeline/<id>          seq (uint64) → Event JSON
//	seen                   source event id → id(16) seq(8) unix-nanos(8)
//	oncall_changes         change id (UUIDv7) → OnCallChange JSON, append-only
//	cursors                job key → unix-nanos: how far a periodic job has got
//	pages                  page id → Page JSON, with its deliveries
//	due                    next-fire unix-nanos(8) page id(16) → nothing: escalation timers
//	incident_pages         incident id(16) page id(16) → nothing: an incident's pages
//	page_refs              platform "|" channel "|" message → page id
//	reminders              incident id(16) kind → due unix-nanos
//	reminders_due          due unix-nanos(8) incident id(16) kind → nothing
//	followups              number (uint64) → FollowUp JSON
//	postmortems            incident id → the latest postmortem draft (Markdown)
//	alert_keys             alert group key → the incident it declared
//	heartbeats             name → HeartbeatState JSON
//	heartbeats_due         due unix-nanos(8) name → nothing
//	jobs                   queue "/" seq (%016x) → Job JSON: the one outbox (pages, hooks, chat, tickets)
//	jobs_due               priority(1) next-attempt unix-nanos(8) job key → nothing: each queue's first pending job
//	jobs_coalesce          queue "|" op → key of the pending job that later ones of its kind join
//	jobs_creating          job key → started unix-nanos(8) platform: channel creations in flight
//	named_messages         job name → MessageRef JSON: the message a job posted under its name
//	profiles               person id → Profile JSON: contact methods and rules set in chat
//	sessions               hashed session id → Session JSON: web console sign-ins (not exported)
//	postmortem_versions    incident id | version(8) → PostmortemVersion JSON: edits in the web console
//	subscribers            SubscriberID → Subscriber JSON: confirmed status page subscriptions by email
//	incidents_active       incident id → nothing: the open, acknowledged and mitigated incidents
//	incident_classes       status NUL severity name → count(8): incidents by status and severity, for /metrics
//	delivery_counts        delivery status → count(8): page deliveries by status, for /metrics
//	idempotency            token name, space, key → IdempotencyRecord JSON: API writes' first answers, a day (not exported)
//
// Schemas before version 12 also had outbox, outbox_due, hooks and hooks_due;
// migration 12 ("one outbox") folded them into jobs and deleted them.
package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var (
	bucketMeta          = []byte("meta")
	bucketIncidents     = []byte("incidents")
	bucketNumbers       = []byte("incident_numbers")
	bucketChannels      = []byte("incident_channels")
	bucketTimeline      = []byte("timeline")
	bucketSeen          = []byte("seen")
	bucketOnCall        = []byte("oncall_changes")
	bucketCursors       = []byte("cursors")
	bucketPages         = []byte("pages")
	bucketDue           = []byte("due")
	bucketPageRefs      = []byte("page_refs")
	bucketFollowUps     = []byte("followups")
	bucketPostmortems   = []byte("postmortems")
	bucketAlertKeys     = []byte("alert_keys")
	bucketHeartbeats    = []byte("heartbeats")
	bucketHeartbeatsDue = []byte("heartbeats_due")
	bucketReminders     = []byte("reminders")
	bucketRemindersDue  = []byte("reminders_due")
	bucketJobs          = []byte("jobs")           // queue/seq → job
	bucketJobsDue       = []byte("jobs_due")       // priority|next attempt|key of each queue's first pending job
	bucketJobsCoalesce  = []byte("jobs_coalesce")  // queue|op → key of the pending job that coalesces
	bucketIncidentPages = []byte("incident_pages") // incident id|page id
	bucketNamed         = []byte("named_messages") // job name → the message it posted
	bucketJobsCreating  = []byte("jobs_creating")  // job key → started(8) platform: channel creations in flight
	bucketProfiles      = []byte("profiles")       // person id → bot.Profile JSON: contact methods and rules set in chat
	bucketSessions      = []byte("sessions")       // hashed session id → bot.Session JSON: web console sign-ins
	// incident id | version → bot.PostmortemVersion JSON: postmortem edits
	bucketPostmortemVersions = []byte("postmortem_versions")
	bucketSubscribers        = []byte("subscribers")      // bot.SubscriberID → bot.Subscriber JSON
	bucketActive             = []byte("incidents_active") // incident id → nothing: the active incidents
	bucketClasses            = []byte("incident_classes") // status NUL severity → count(8)
	bucketDeliveryCounts     = []byte("delivery_counts")  // delivery status → count(8)
	bucketDeliveries         = []byte("deliveries")       // page id|delivery key → bot.Delivery JSON
	bucketIdempotency        = []byte("idempotency")      // token name, space, key → bot.IdempotencyRecord JSON

	keySchemaVersion = []byte("schema_version")
	keyReadyProbe    = []byte("ready_probe") // written by Ready
)

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("another klaxon is running on this file")

// Options tune Open.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the
	// file before giving up with ErrLocked. Zero means one second.
	LockTimeout time.Duration
	// MustExist refuses to create a new store: offline commands (backup,
	// export) on a mistyped path must fail, not succeed on an empty one.
	MustExist bool
}

// Store is klaxon's bbolt-backed implementation of store.Backend: the
// operations on the file itself (ready, check, backup, dump, counts) and
// one part per domain, each reading its own buckets through the shared
// core. Every write goes through core.Update.
type Store struct {
	*core
	incidentReads  // incidents and their timelines (this file)
	jobReads       // the outbox (jobs.go)
	pageReads      // pages and reminders (paging.go, reminders.go)
	heartbeatReads // heartbeats (heartbeats.go)
	recordReads    // follow-ups, postmortems, alert groups, on-call history, profiles, sessions, subscribers, API keys
}

// core is the open file and its committer, which every part shares.
type core struct {
	db   *bbolt.DB
	path string

	writes *store.Committer[*bbolt.Tx] // see update
	closed sync.Once
}

var _ store.Backend = (*Store)(nil)

// The parts of a Store, each over the shared core.
type (
	incidentReads  struct{ *core }
	jobReads       struct{ *core }
	pageReads      struct{ *core }
	heartbeatReads struct{ *core }
	recordReads    struct{ *core }
)

// Open opens (creating if needed) the database at path and brings its schema
// up to date.
func Open(path string, opts Options) (*Store, error) {
	return open(path, opts, migrations)
}

func open(path string, opts Options, ms []migration) (*Store, error) {
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = time.Second
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
		}
	}
	if _, err := os.Stat(path); opts.MustExist && errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: there is no database at %s: check store.path", path)
	}
	if err := checkFile(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var db *bbolt.DB
	err := damageSafe(path, func() (err error) {
		db, err = bbolt.Open(path, 0o600, boltOptions(opts.LockTimeout))
		return err
	})
	if errors.Is(err, ErrDamaged) {
		return nil, fmt.Errorf("store: %w", err)
	}
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("store: %s: %w (gave up after %s)", path, ErrLocked, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := damageSafe(path, func() error { return migrate(db, ms) }); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	c := &core{db: db, path: path}
	c.writes = store.NewCommitter(maxGroup, c.commit)
	s := &Store{core: c, incidentReads: incidentReads{c}, jobReads: jobReads{c}, pageReads: pageReads{c}, heartbeatReads: heartbeatReads{c}, recordReads: recordReads{c}}
	return s, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close waits for the write in progress, refuses new ones, and closes the
// database. Every write that returned without error is on disk.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		s.writes.Close()
		err = s.db.Close()
	})
	return err
}

// Ready reports whether the store takes writes: it commits a tiny write.
func (s *Store) Ready() error {
	if s.writes.Closed() {
		return errors.New("the store is closed")
	}
	// Ready means taking writes: a full disk fails this, as it would fail
	// the next declaration.
	err := s.update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyReadyProbe, []byte{1}) })
	if err != nil {
		return fmt.Errorf("the store does not take writes: %w", err)
	}
	return nil
}

// Check walks the whole file and reports the first inconsistency bbolt
// finds, or nil.
func (s *Store) Check() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
}

// Backup writes a consistent copy of the database to w while the store stays
// in use.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// BackupFile writes a consistent copy of the database to path, atomically:
// the copy appears under its name only once it is complete and synced.
func (s *Store) BackupFile(path string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	n, err := s.Backup(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	return n, nil
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func channelKey(p bot.Platform, channelID string) []byte {
	return []byte(string(p) + "|" + channelID)
}

func notFound(what string) error { return bot.Errorf(bot.ENOTFOUND, "%s does not exist.", what) }

// putIncident writes inc and keeps the indexes in step. prev is the stored
// version being replaced, or nil.
func putIncident(tx *bbolt.Tx, inc *bot.Incident, prev *bot.Incident) error {
	data, err := store.Encode(inc)
	if err != nil {
		return err
	}
	id := inc.ID[:]
	if err := tx.Bucket(bucketIncidents).Put(id, data); err != nil {
		return err
	}
	if err := tx.Bucket(bucketNumbers).Put(u64(uint64(inc.Number)), id); err != nil {
		return err
	}
	if err := indexIncident(tx, inc, prev); err != nil {
		return err
	}
	chans := tx.Bucket(bucketChannels)
	if prev != nil && !prev.Channel.IsZero() && prev.Channel.ID != inc.Channel.ID {
		if err := chans.Delete(channelKey(prev.Platform, prev.Channel.ID)); err != nil {
			return err
		}
	}
	if !inc.Channel.IsZero() {
		return chans.Put(channelKey(inc.Platform, inc.Channel.ID), id)
	}
	return nil
}

// indexIncident keeps the active index and the class counts in step with
// inc, which was prev (nil: new).
func indexIncident(tx *bbolt.Tx, inc, prev *bot.Incident) error {
	active := tx.Bucket(bucketActive)
	if active == nil {
		return nil // a migration older than the index, which builds it afterwards
	}
	// Most writes of an incident (an update, a role) change neither: they
	// touch no index page.
	if prev == nil || prev.Status.Active() != inc.Status.Active() {
		var err error
		if inc.Status.Active() {
			err = active.Put(inc.ID[:], nil)
		} else {
			err = active.Delete(inc.ID[:])
		}
		if err != nil {
			return err
		}
	}
	if prev != nil && prev.Status == inc.Status && prev.Severity.Name == inc.Severity.Name {
		return nil
	}
	if prev != nil {
		if err := countClass(tx, prev, -1); err != nil {
			return err
		}
	}
	return countClass(tx, inc, 1)
}

func classKey(inc *bot.Incident) []byte {
	return []byte(string(inc.Status) + "\x00" + inc.Severity.Name)
}

func countClass(tx *bbolt.Tx, inc *bot.Incident, d int64) error {
	b, k := tx.Bucket(bucketClasses), classKey(inc)
	var n int64
	if v := b.Get(k); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	if n += d; n <= 0 {
		return b.Delete(k)
	}
	return b.Put(k, binary.BigEndian.AppendUint64(nil, uint64(n)))
}

func getIncident(tx *bbolt.Tx, id []byte) (*bot.Incident, error) {
	data := tx.Bucket(bucketIncidents).Get(id)
	if data == nil {
		return nil, notFound("That incident")
	}
	var inc bot.Incident
	if err := store.Decode(data, &inc); err != nil {
		return nil, fmt.Errorf("decode incident %x: %w", id, err)
	}
	return &inc, nil
}

// Incident implements bot.Store.
func (s incidentReads) Incident(ctx context.Context, id uuid.UUID) (*bot.Incident, error) {
	var inc *bot.Incident
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		inc, err = getIncident(tx, id[:])
		return err
	})
	return inc, err
}

// IncidentByNumber implements bot.Store.
func (s incidentReads) IncidentByNumber(ctx context.Context, n int64) (*bot.Incident, error) {
	var inc *bot.Incident
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		id := tx.Bucket(bucketNumbers).Get(u64(uint64(n)))
		if id == nil {
			return notFound(fmt.Sprintf("INC-%d", n))
		}
		inc, err = getIncident(tx, id)
		return err
	})
	return inc, err
}

// IncidentByChannel implements bot.Store.
func (s incidentReads) IncidentByChannel(ctx context.Context, p bot.Platform, channelID string) (*bot.Incident, error) {
	var inc *bot.Incident
	err := s.db.View(func(tx *bbolt.Tx) (err error) {
		id := tx.Bucket(bucketChannels).Get(channelKey(p, channelID))
		if id == nil {
			return notFound("An incident for this channel")
		}
		inc, err = getIncident(tx, id)
		return err
	})
	return inc, err
}

// ListIncidents implements bot.Store.
func (s incidentReads) ListIncidents(ctx context.Context, f bot.IncidentFilter) ([]*bot.Incident, error) {
	var out []*bot.Incident
	err := s.db.View(func(tx *bbolt.Tx) error {
		incidents := tx.Bucket(bucketIncidents)
		decode := func(id, v []byte) (*bot.Incident, error) {
			var inc bot.Incident
			if err := store.Decode(v, &inc); err != nil {
				return nil, fmt.Errorf("decode incident %x: %w", id, err)
			}
			return &inc, nil
		}
		if f.ActiveOnly {
			// The active index: the cost grows with the incidents open now.
			err := tx.Bucket(bucketActive).ForEach(func(id, _ []byte) error {
				v := incidents.Get(id)
				if v == nil {
					return nil
				}
				inc, err := decode(id, v)
				if err != nil {
					return err
				}
				if f.Before <= 0 || inc.Number < f.Before {
					out = append(out, inc)
				}
				return nil
			})
			slices.SortFunc(out, func(a, b *bot.Incident) int { return int(b.Number - a.Number) })
			if f.Limit > 0 && len(out) > f.Limit {
				out = out[:f.Limit]
			}
			return err
		}
		// Newest first by number: the numbers index, from just below
		// Before, so paging through a long list reads each incident once,
		// and a window (DeclaredSince) reads only the incidents in it.
		c := tx.Bucket(bucketNumbers).Cursor()
		k, id := c.Last()
		if f.Before > 0 {
			if k, _ = c.Seek(u64(uint64(f.Before))); k == nil {
				k, id = c.Last()
			} else {
				k, id = c.Prev()
			}
		}
		for ; k != nil; k, id = c.Prev() {
			v := incidents.Get(id)
			if v == nil {
				continue
			}
			inc, err := decode(id, v)
			if err != nil {
				return err
			}
			if f.Before > 0 && inc.Number >= f.Before {
				continue
			}
			if !f.DeclaredSince.IsZero() && inc.DeclaredAt.Before(f.DeclaredSince) {
				break // numbers follow declaration: the rest are older
			}
			out = append(out, inc)
			if f.Limit > 0 && len(out) == f.Limit {
				break
			}
		}
		return nil
	})
	return out, err
}

func appendEvents(tx *bbolt.Tx, incidentID uuid.UUID, events []bot.Event) error {
	for i := range events {
		events[i].IncidentID = incidentID
		if _, err := appendEvent(tx, &events[i]); err != nil {
			return err
		}
	}
	return nil
}

// appendEvent writes ev unless its SourceID was seen before.
func appendEvent(tx *bbolt.Tx, ev *bot.Event) (bool, error) {
	if ev.IncidentID == uuid.Nil {
		return false, errors.New("store: event has no incident id")
	}
	if tx.Bucket(bucketIncidents).Get(ev.IncidentID[:]) == nil {
		return false, notFound("That incident")
	}
	seen := tx.Bucket(bucketSeen)
	if ev.SourceID != "" && seen.Get([]byte(ev.SourceID)) != nil {
		return false, nil
	}
	if ev.ID == uuid.Nil {
		ev.ID = bot.NewID()
	}
	tl, err := tx.Bucket(bucketTimeline).CreateBucketIfNotExists(ev.IncidentID[:])
	if err != nil {
		return false, err
	}
	seq, err := tl.NextSequence()
	if err != nil {
		return false, err
	}
	ev.Seq = seq
	data, err := store.Encode(ev)
	if err != nil {
		return false, err
	}
	if err := tl.Put(u64(seq), data); err != nil {
		return false, err
	}
	if ev.SourceID != "" {
		v := make([]byte, 0, 32)
		v = append(v, ev.IncidentID[:]...)
		v = binary.BigEndian.AppendUint64(v, seq)
		v = binary.BigEndian.AppendUint64(v, uint64(ev.Time.UnixNano()))
		if err := seen.Put([]byte(ev.SourceID), v); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Events implements bot.Store.
func (s incidentReads) Events(ctx context.Context, incidentID uuid.UUID, from uint64, limit int) ([]bot.Event, error) {
	var out []bot.Event
	err := s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketIncidents).Get(incidentID[:]) == nil {
			return notFound("That incident")
		}
		tl := tx.Bucket(bucketTimeline).Bucket(incidentID[:])
		if tl == nil {
			return nil
		}
		c := tl.Cursor()
		for k, v := c.Seek(u64(from)); k != nil; k, v = c.Next() {
			var ev bot.Event
			if err := store.Decode(v, &ev); err != nil {
				return fmt.Errorf("decode event %x: %w", k, err)
			}
			out = append(out, ev)
			if limit > 0 && len(out) == limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// LastAbout implements bot.Store, with a cursor from the newest event back.
func (s incidentReads) LastAbout(ctx context.Context, incidentID uuid.UUID, ref bot.MessageRef, limit int, kinds ...bot.EventKind) (bot.Event, bool, error) {
	var out bot.Event
	var found bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		tl := tx.Bucket(bucketTimeline).Bucket(incidentID[:])
		if tl == nil {
			return nil
		}
		c := tl.Cursor()
		n := 0
		for k, v := c.Last(); k != nil && n < limit; k, v = c.Prev() {
			n++
			var probe struct {
				Kind bot.EventKind  `json:"kind"`
				Ref  bot.MessageRef `json:"ref"`
			}
			if err := store.Decode(v, &probe); err != nil {
				return fmt.Errorf("decode event %x: %w", k, err)
			}
			if probe.Ref != ref || !slices.Contains(kinds, probe.Kind) {
				continue
			}
			found = true
			return store.Decode(v, &out)
		}
		return nil
	})
	return out, found, err
}

// EachEvent implements bot.TimelineReader: it calls fn for each event in
// order inside one read transaction, so the timeline is never all in memory.
func (s incidentReads) EachEvent(ctx context.Context, incidentID uuid.UUID, fn func(bot.Event) error) error {
	return s.eachEvent(incidentID, func(v []byte) (bot.Event, error) {
		var ev bot.Event
		err := store.Decode(v, &ev)
		return ev, err
	}, fn)
}

// briefEvent is the part of an event reports read.
type briefEvent struct {
	Kind      bot.EventKind `json:"kind"`
	Actor     bot.User      `json:"actor"`
	Time      time.Time     `json:"time"`
	Text      string        `json:"text"`
	Highlight bool          `json:"highlight"`
	Seq       uint64        `json:"seq"`
}

// EachEventBrief implements bot.TimelineReader.
func (s incidentReads) EachEventBrief(ctx context.Context, incidentID uuid.UUID, fn func(bot.Event) error) error {
	return s.eachEvent(incidentID, func(v []byte) (bot.Event, error) {
		var b briefEvent
		err := store.Decode(v, &b)
		return bot.Event{IncidentID: incidentID, Seq: b.Seq, Kind: b.Kind, Actor: b.Actor, Time: b.Time, Text: b.Text, Highlight: b.Highlight}, err
	}, fn)
}

// eachEvent streams a timeline: the cursor copies raw values in chunks,
// the chunks are decoded on all cores, and fn sees the events strictly in
// order, from the caller's goroutine.
func (s *core) eachEvent(incidentID uuid.UUID, decode func([]byte) (bot.Event, error), fn func(bot.Event) error) error {
	type chunk struct {
		raws  [][]byte
		evs   []bot.Event
		err   error
		ready chan struct{}
	}
	const size = 512
	// releaseEvery is how much of the timeline is read between releases
	// of the file's pages.
	const releaseEvery = 8 << 20
	ordered := make(chan *chunk, 4)
	work := make(chan *chunk, 4)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for c := range work {
				c.evs = make([]bot.Event, len(c.raws))
				for i, raw := range c.raws {
					if c.evs[i], c.err = decode(raw); c.err != nil {
						c.err = fmt.Errorf("decode event %d: %w", i, c.err)
						break
					}
				}
				close(c.ready)
			}
		})
	}
	// The reader runs the read transaction and feeds the decoders.
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		defer close(ordered)
		defer close(work)
		readErr <- s.db.View(func(tx *bbolt.Tx) error {
			if tx.Bucket(bucketIncidents).Get(incidentID[:]) == nil {
				return notFound("That incident")
			}
			tl := tx.Bucket(bucketTimeline).Bucket(incidentID[:])
			if tl == nil {
				return nil
			}
			cur := &chunk{ready: make(chan struct{})}
			var sent []chan struct{} // each chunk's ready, not the chunk: it is let go once handled
			send := func() bool {
				select {
				case ordered <- cur:
				case <-stop:
					return false
				}
				work <- cur
				sent = append(sent, cur.ready)
				cur = &chunk{ready: make(chan struct{})}
				return true
			}
			c := tl.Cursor()
			read := 0
			for k, v := c.First(); k != nil; k, v = c.Next() {
				// The values point into the file's mapping, valid while the
				// transaction is open: it stays open until every chunk is
				// decoded (decoding copies what it keeps).
				cur.raws = append(cur.raws, v)
				read += len(k) + len(v)
				if read >= releaseEvery {
					// A long timeline's pages need not stay resident once read.
					releasePages(s.db, tx)
					read = 0
				}
				if len(cur.raws) == size && !send() {
					break
				}
			}
			if len(cur.raws) > 0 {
				send()
			}
			// Keep the transaction (and the values) until every chunk sent
			// is decoded, also when the reader stops early.
			for _, ready := range sent {
				<-ready
			}
			return nil
		})
	}()
	var err error
	for c := range ordered {
		<-c.ready
		if err != nil {
			continue // drain
		}
		if c.err != nil {
			err = c.err
			close(stop)
			continue
		}
		for _, ev := range c.evs {
			if err = fn(ev); err != nil {
				close(stop)
				break
			}
		}
	}
	wg.Wait()
	if rerr := <-readErr; err == nil {
		err = rerr
	}
	return err
}

// CountEvents implements bot.Store.
func (s incidentReads) CountEvents(ctx context.Context, incidentID uuid.UUID) (int, error) {
	var n int
	err := s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketIncidents).Get(incidentID[:]) == nil {
			return notFound("That incident")
		}
		// Events are never deleted, so the sequence is the count.
		if tl := tx.Bucket(bucketTimeline).Bucket(incidentID[:]); tl != nil {
			n = int(tl.Sequence())
		}
		return nil
	})
	return n, err
}

// PruneSeen forgets de-duplication records of events older than before and
// returns how many it removed. Platforms redeliver within minutes, so
// records need to outlive only the longest redelivery window.
func (s *Store) PruneSeen(before time.Time) (int, error) {
	var n int
	err := s.update(func(tx *bbolt.Tx) error {
		n = 0
		c := tx.Bucket(bucketSeen).Cursor()
		for k, v := c.First(); k != nil; {
			if len(v) == 32 && int64(binary.BigEndian.Uint64(v[24:])) < before.UnixNano() {
				key := append([]byte(nil), k...)
				if err := c.Delete(); err != nil {
					return err
				}
				n++
				k, v = c.Seek(key) // Delete moves the cursor; re-seek to the next key
				continue
			}
			k, v = c.Next()
		}
		return nil
	})
	return n, err
}

// boltOptions are the bbolt settings klaxon runs with. The freelist is not
// written on every commit (it is rebuilt when the file is opened), which
// saves a page write per commit; etcd runs bbolt the same way.
func boltOptions(lockTimeout time.Duration) *bbolt.Options {
	return &bbolt.Options{Timeout: lockTimeout, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType}
}
