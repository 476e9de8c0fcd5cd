package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

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
	KindPageRef    = "page_ref"   // PageRef
	KindReminder   = "reminder"   // bot.Reminder
	KindFollowUp   = "followup"   // bot.FollowUp
	KindPostmortem = "postmortem" // Postmortem
	KindAlertKey   = "alert_key"  // AlertKey
	KindOnCall     = "oncall"     // bot.OnCallChange
	KindCursor     = "cursor"     // Cursor
	KindHeartbeat  = "heartbeat"  // bot.HeartbeatState
	KindNamed      = "named"      // Named
	KindJob        = "job"        // JobRecord
)

// Kinds lists the record kinds in load order.
var Kinds = []string{KindCounter, KindIncident, KindEvent, KindSeen, KindPage, KindPageRef, KindReminder,
	KindFollowUp, KindPostmortem, KindAlertKey, KindOnCall, KindCursor, KindHeartbeat, KindNamed, KindJob}

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

// --- bbolt ------------------------------------------------------------------

var _ Dumper = (*Store)(nil)

// Dump implements Dumper, from one read transaction.
func (s *Store) Dump(ctx context.Context, fn func(Record) error) error {
	emit := func(kind string, v any) error {
		r, err := NewRecord(kind, v)
		if err != nil {
			return err
		}
		return fn(r)
	}
	// body re-encodes a stored JSON body as its type encodes it.
	body := func(kind string, v []byte, into any) error {
		if err := json.Unmarshal(v, into); err != nil {
			return fmt.Errorf("decode %s: %w", kind, err)
		}
		return emit(kind, into)
	}
	return s.db.View(func(tx *bolt.Tx) error {
		for _, c := range []struct {
			name   string
			bucket []byte
		}{{"incident", bucketIncidents}, {"followup", bucketFollowUps}, {"job", bucketJobs}} {
			if err := emit(KindCounter, Counter{c.name, int64(tx.Bucket(c.bucket).Sequence())}); err != nil {
				return err
			}
		}
		tl := tx.Bucket(bucketTimeline)
		err := tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
			if err := body(KindIncident, v, &bot.Incident{}); err != nil {
				return err
			}
			if b := tl.Bucket(k); b != nil {
				return b.ForEach(func(_, v []byte) error { return body(KindEvent, v, &bot.Event{}) })
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketSeen).ForEach(func(k, v []byte) error {
			if len(v) != 32 {
				return nil
			}
			id, _ := uuid.FromBytes(v[:16])
			return emit(KindSeen, Seen{string(k), id, binary.BigEndian.Uint64(v[16:24]), time.Unix(0, int64(binary.BigEndian.Uint64(v[24:]))).UTC()})
		})
		if err != nil {
			return err
		}
		each := func(bucket []byte, fn func(k, v []byte) error) error { return tx.Bucket(bucket).ForEach(fn) }
		steps := []func() error{
			func() error {
				return each(bucketPages, func(_, v []byte) error { return body(KindPage, v, &bot.Page{}) })
			},
			func() error {
				return each(bucketPageRefs, func(k, v []byte) error {
					id, _ := uuid.FromBytes(v)
					return emit(KindPageRef, PageRef{string(k), id})
				})
			},
			func() error {
				return each(bucketReminders, func(k, v []byte) error {
					id, _ := uuid.FromBytes(k[:16])
					return emit(KindReminder, bot.Reminder{IncidentID: id, Kind: string(k[16:]), At: time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()})
				})
			},
			func() error {
				return each(bucketFollowUps, func(_, v []byte) error { return body(KindFollowUp, v, &bot.FollowUp{}) })
			},
			func() error {
				return each(bucketPostmortems, func(k, v []byte) error {
					id, _ := uuid.FromBytes(k)
					return emit(KindPostmortem, Postmortem{id, v})
				})
			},
			func() error {
				return each(bucketAlertKeys, func(k, v []byte) error {
					id, _ := uuid.FromBytes(v)
					return emit(KindAlertKey, AlertKey{string(k), id})
				})
			},
			func() error {
				return each(bucketOnCall, func(_, v []byte) error { return body(KindOnCall, v, &bot.OnCallChange{}) })
			},
			func() error {
				return each(bucketCursors, func(k, v []byte) error {
					return emit(KindCursor, Cursor{string(k), time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()})
				})
			},
			func() error {
				return each(bucketHeartbeats, func(_, v []byte) error { return body(KindHeartbeat, v, &bot.HeartbeatState{}) })
			},
			func() error {
				return each(bucketNamed, func(k, v []byte) error {
					var ref bot.MessageRef
					if err := json.Unmarshal(v, &ref); err != nil {
						return err
					}
					return emit(KindNamed, Named{string(k), ref})
				})
			},
			func() error {
				co := tx.Bucket(bucketJobsCoalesce)
				return each(bucketJobs, func(k, v []byte) error {
					var j bot.Job
					if err := json.Unmarshal(v, &j); err != nil {
						return err
					}
					wanted := co.Get(append(append([]byte(nil), keyWanted...), k...)) != nil
					return emit(KindJob, JobRecord{j, wanted})
				})
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Load implements Dumper: it writes records into an empty store in one
// transaction, with every index.
func (s *Store) Load(ctx context.Context, records []Record) error {
	return s.update(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketIncidents).Cursor().First(); k != nil {
			return fmt.Errorf("the destination is not empty")
		}
		t := txn{tx}
		for _, r := range records {
			if err := loadRecord(t, r); err != nil {
				return fmt.Errorf("%s: %w", r.Kind, err)
			}
		}
		return nil
	})
}

func loadRecord(t txn, r Record) error {
	tx := t.tx
	switch r.Kind {
	case KindCounter:
		var c Counter
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return err
		}
		b := map[string][]byte{"incident": bucketIncidents, "followup": bucketFollowUps, "job": bucketJobs}[c.Name]
		if b == nil {
			return fmt.Errorf("unknown counter %q", c.Name)
		}
		return tx.Bucket(b).SetSequence(uint64(c.N))
	case KindIncident:
		var inc bot.Incident
		if err := json.Unmarshal(r.Value, &inc); err != nil {
			return err
		}
		return putIncident(tx, &inc, nil)
	case KindEvent:
		var ev bot.Event
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			return err
		}
		tl, err := tx.Bucket(bucketTimeline).CreateBucketIfNotExists(ev.IncidentID[:])
		if err != nil {
			return err
		}
		if ev.Seq > tl.Sequence() {
			if err := tl.SetSequence(ev.Seq); err != nil {
				return err
			}
		}
		return tl.Put(u64(ev.Seq), r.Value)
	case KindSeen:
		var sn Seen
		if err := json.Unmarshal(r.Value, &sn); err != nil {
			return err
		}
		v := append(append([]byte(nil), sn.IncidentID[:]...), u64(sn.Seq)...)
		v = binary.BigEndian.AppendUint64(v, uint64(sn.At.UnixNano()))
		return tx.Bucket(bucketSeen).Put([]byte(sn.SourceID), v)
	case KindPage:
		var p bot.Page
		if err := json.Unmarshal(r.Value, &p); err != nil {
			return err
		}
		return putPage(tx, &p)
	case KindPageRef:
		var pr PageRef
		if err := json.Unmarshal(r.Value, &pr); err != nil {
			return err
		}
		return tx.Bucket(bucketPageRefs).Put([]byte(pr.Ref), pr.PageID[:])
	case KindReminder:
		var rm bot.Reminder
		if err := json.Unmarshal(r.Value, &rm); err != nil {
			return err
		}
		return t.SetReminder(rm)
	case KindFollowUp:
		var f bot.FollowUp
		if err := json.Unmarshal(r.Value, &f); err != nil {
			return err
		}
		return tx.Bucket(bucketFollowUps).Put(u64(uint64(f.Number)), r.Value)
	case KindPostmortem:
		var pm Postmortem
		if err := json.Unmarshal(r.Value, &pm); err != nil {
			return err
		}
		return t.PutPostmortem(pm.IncidentID, pm.Markdown)
	case KindAlertKey:
		var ak AlertKey
		if err := json.Unmarshal(r.Value, &ak); err != nil {
			return err
		}
		return t.SetAlertIncident(ak.Key, ak.IncidentID)
	case KindOnCall:
		var c bot.OnCallChange
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return err
		}
		return t.AddOnCallChange(&c)
	case KindCursor:
		var c Cursor
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return err
		}
		return t.SetCursor(c.Key, c.At)
	case KindHeartbeat:
		var hb bot.HeartbeatState
		if err := json.Unmarshal(r.Value, &hb); err != nil {
			return err
		}
		if err := tx.Bucket(bucketHeartbeats).Put([]byte(hb.Name), r.Value); err != nil {
			return err
		}
		return tx.Bucket(bucketHeartbeatsDue).Put(timeKey(hb.Due, []byte(hb.Name)), nil)
	case KindNamed:
		var n Named
		if err := json.Unmarshal(r.Value, &n); err != nil {
			return err
		}
		return t.NameMessage(n.Name, n.Ref)
	case KindJob:
		var jr JobRecord
		if err := json.Unmarshal(r.Value, &jr); err != nil {
			return err
		}
		j := jr.Job
		if err := putJob(tx, &j); err != nil {
			return err
		}
		if j.Status == bot.JobPending && j.Coalesces() {
			if err := tx.Bucket(bucketJobsCoalesce).Put(coalesceKey(j), []byte(j.Key)); err != nil {
				return err
			}
		}
		if jr.Wanted {
			if err := markWanted(tx, []byte(j.Key)); err != nil {
				return err
			}
		}
		if j.Op == bot.OpCreateChannel && j.Status == bot.JobPending && !j.Started.IsZero() {
			if err := tx.Bucket(bucketJobsCreating).Put([]byte(j.Key), creatingValue(&j)); err != nil {
				return err
			}
		}
		// Jobs load in key order, so the first pending one of a queue is
		// its head.
		if head, ok := firstPending(tx, j.Queue); ok && head.Key == j.Key {
			return tx.Bucket(bucketJobsDue).Put(dueKey(&j), []byte(j.Destination()))
		}
		return nil
	}
	return fmt.Errorf("unknown record kind %q", r.Kind)
}
