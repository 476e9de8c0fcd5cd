package bolt

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// A migration moves the schema one version up. Migrations run in order at
// Open, all in one transaction: a crash mid-way leaves the old version.
// Never edit or reorder a released migration; append a new one.
type migration struct {
	name string
	up   func(tx *bbolt.Tx) error
}

// Buckets of earlier schemas, for the migrations that made and retired
// them.
var (
	legacyOutbox    = []byte("outbox")     // page deliveries, before "one outbox"
	legacyOutboxDue = []byte("outbox_due") // their due index
	legacyHooks     = []byte("hooks")      // hook deliveries, before "one outbox"
	legacyHooksDue  = []byte("hooks_due")  // their due index
)

// migrations is the schema history. Version N is the state after
// migrations[N-1] ran.
var migrations = []migration{
	{"create buckets", func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketIncidents, bucketNumbers, bucketChannels, bucketTimeline, bucketSeen} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"on-call history", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketOnCall)
		return err
	}},
	{"job cursors", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCursors)
		return err
	}},
	{"paging", func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketPages, bucketDue, legacyOutbox, legacyOutboxDue, bucketPageRefs} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"reminders", func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketReminders, bucketRemindersDue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"follow-ups", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketFollowUps)
		return err
	}},
	{"postmortems", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketPostmortems)
		return err
	}},
	{"alert keys", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketAlertKeys)
		return err
	}},
	{"heartbeats", func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketHeartbeats, bucketHeartbeatsDue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"outgoing hooks", func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{legacyHooks, legacyHooksDue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"chat jobs", func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketJobs, bucketJobsDue, bucketJobsCoalesce} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"one outbox", oneOutbox},
	{"channels in creation", func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketJobsCreating)
		if err != nil {
			return err
		}
		// Creations marked started by the release that kept the mark only
		// on the job.
		return tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			var j bot.Job
			if err := store.Decode(v, &j); err != nil {
				return err
			}
			if j.Op == bot.OpCreateChannel && j.Status == bot.JobPending && !j.Started.IsZero() {
				return b.Put(k, creatingValue(&j))
			}
			return nil
		})
	}},
	{"profiles", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketProfiles)
		return err
	}},
	{"sessions", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketSessions)
		return err
	}},
	{"postmortem versions", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketPostmortemVersions)
		return err
	}},
	{"status page subscribers", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketSubscribers)
		return err
	}},
	{"idempotency keys", func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketIdempotency)
		return err
	}},
	{"active incidents and incident classes", func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketActive, bucketClasses} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
			var inc bot.Incident
			if err := store.Decode(v, &inc); err != nil {
				return fmt.Errorf("decode incident %x: %w", k, err)
			}
			return indexIncident(tx, &inc, nil)
		})
	}},
	{"public updates on incidents", func(tx *bbolt.Tx) error {
		// Incidents keep their public updates (for the status page) on
		// their record; older ones get them from their timeline, once.
		incidents, timeline := tx.Bucket(bucketIncidents), tx.Bucket(bucketTimeline)
		var todo []*bot.Incident
		err := incidents.ForEach(func(k, v []byte) error {
			var inc bot.Incident
			if err := store.Decode(v, &inc); err != nil {
				return fmt.Errorf("decode incident %x: %w", k, err)
			}
			todo = append(todo, &inc)
			return nil
		})
		if err != nil {
			return err
		}
		for _, inc := range todo {
			if tl := timeline.Bucket(inc.ID[:]); tl != nil {
				err := tl.ForEach(func(_, v []byte) error {
					var ev bot.Event
					if err := store.Decode(v, &ev); err != nil {
						return err
					}
					if ev.Kind == bot.EventUpdate && ev.Meta[bot.MetaPublic] == "true" {
						inc.PublicUpdates = append(inc.PublicUpdates, bot.PublicUpdate{Time: ev.Time.UTC(),
							Text: strings.TrimPrefix(ev.Text, "posted a public update (status page): ")})
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("the timeline of %s: %w", inc.Key(), err)
				}
			}
			if len(inc.PublicUpdates) == 0 {
				continue
			}
			data, err := store.Encode(inc)
			if err != nil {
				return err
			}
			if err := incidents.Put(inc.ID[:], data); err != nil {
				return err
			}
		}
		return nil
	}},
	{"delivery counts", func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketDeliveryCounts); err != nil {
			return err
		}
		change := map[bot.DeliveryStatus]int64{}
		err := tx.Bucket(bucketPages).ForEach(func(k, v []byte) error {
			var p legacyPage
			if err := store.Decode(v, &p); err != nil {
				return fmt.Errorf("decode page %x: %w", k, err)
			}
			for _, d := range p.Deliveries {
				change[d.Status]++
			}
			return nil
		})
		if err != nil {
			return err
		}
		return countDeliveries(tx, change)
	}},
	{"deliveries of their own", deliveriesOfTheirOwn},
}

// legacyPage is a page as stored before "deliveries of their own": with
// its deliveries in its own record.
type legacyPage struct {
	bot.Page
	Deliveries []bot.Delivery `json:"deliveries,omitempty"`
}

// deliveriesOfTheirOwn moves each page's deliveries out of its record
// into rows of their own, so recording a delivery's outcome no longer
// rewrites a record that grows with everyone the page reached. The counts
// by status stay as they are.
func deliveriesOfTheirOwn(tx *bbolt.Tx) error {
	rows, err := tx.CreateBucket(bucketDeliveries)
	if err != nil {
		return err
	}
	var pages []legacyPage
	err = tx.Bucket(bucketPages).ForEach(func(k, v []byte) error {
		var p legacyPage
		if err := store.Decode(v, &p); err != nil {
			return fmt.Errorf("decode page %x: %w", k, err)
		}
		if len(p.Deliveries) > 0 {
			pages = append(pages, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range pages {
		for _, d := range p.Deliveries {
			data, err := store.Encode(d)
			if err != nil {
				return err
			}
			if err := rows.Put(deliveryKey(p.ID, d.Key), data); err != nil {
				return err
			}
		}
		data, err := store.Encode(&p.Page)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketPages).Put(p.ID[:], data); err != nil {
			return err
		}
	}
	return nil
}

// oneOutbox folds the page and hook outboxes into the jobs outbox: each
// page keeps its deliveries with how they went, unfinished deliveries
// become jobs, and the due index gains its priority prefix. Pages get an
// index by incident, and jobs a place to name the messages they post.
func oneOutbox(tx *bbolt.Tx) error {
	for _, b := range [][]byte{bucketIncidentPages, bucketNamed} {
		if _, err := tx.CreateBucket(b); err != nil {
			return err
		}
	}
	// The due index of jobs written before: rebuild it with priorities.
	if err := tx.DeleteBucket(bucketJobsDue); err != nil {
		return err
	}
	if _, err := tx.CreateBucket(bucketJobsDue); err != nil {
		return err
	}
	heads := map[string]bool{}
	err := tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
		var j bot.Job
		if err := store.Decode(v, &j); err != nil {
			return fmt.Errorf("decode job %s: %w", k, err)
		}
		if j.Status != bot.JobPending || heads[j.Queue] {
			return nil
		}
		heads[j.Queue] = true
		return tx.Bucket(bucketJobsDue).Put(dueKey(&j), []byte(j.Destination()))
	})
	if err != nil {
		return err
	}
	pages := map[uuid.UUID]*legacyPage{}
	err = tx.Bucket(bucketPages).ForEach(func(k, v []byte) error {
		var p legacyPage
		if err := store.Decode(v, &p); err != nil {
			return fmt.Errorf("decode page %x: %w", k, err)
		}
		pages[p.ID] = &p
		return nil
	})
	if err != nil {
		return err
	}
	var jobs []bot.Job
	err = tx.Bucket(legacyOutbox).ForEach(func(k, v []byte) error {
		var d struct {
			bot.Delivery
			NextAttempt time.Time `json:"next_attempt"`
			Created     time.Time `json:"created"`
		}
		if err := store.Decode(v, &d); err != nil {
			return fmt.Errorf("decode delivery %s: %w", k, err)
		}
		if p := pages[d.PageID]; p != nil {
			p.Deliveries = append(p.Deliveries, d.Delivery)
		}
		if d.Status == bot.DeliveryPending {
			jobs = append(jobs, bot.Job{Queue: d.DedupKey, Op: bot.OpPage, IncidentID: d.IncidentID, Delivery: &d.Delivery,
				Attempts: d.Attempts, LastError: d.LastError, NextAttempt: d.NextAttempt, Created: d.Created})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range pages {
		if err := putPage(tx, &p.Page); err != nil {
			return err
		}
		data, err := store.Encode(p) // with its deliveries, as pages were then
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketPages).Put(p.ID[:], data); err != nil {
			return err
		}
	}
	err = tx.Bucket(legacyHooks).ForEach(func(k, v []byte) error {
		var d struct {
			bot.HookDelivery
			Status      bot.DeliveryStatus `json:"status"`
			Attempts    int                `json:"attempts"`
			NextAttempt time.Time          `json:"next_attempt"`
			LastError   string             `json:"last_error"`
			Created     time.Time          `json:"created"`
		}
		if err := store.Decode(v, &d); err != nil {
			return fmt.Errorf("decode hook delivery %s: %w", k, err)
		}
		if d.Status == bot.DeliveryPending {
			jobs = append(jobs, bot.Job{Queue: "hook:" + d.Hook, Op: bot.OpHook, Hook: &d.HookDelivery,
				Attempts: d.Attempts, LastError: d.LastError, NextAttempt: d.NextAttempt, Created: d.Created})
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Oldest first, so each queue keeps its order.
	slices.SortStableFunc(jobs, func(a, b bot.Job) int { return a.Created.Compare(b.Created) })
	if err := (txn{tx}).Enqueue(jobs...); err != nil {
		return err
	}
	for _, b := range [][]byte{legacyOutbox, legacyOutboxDue, legacyHooks, legacyHooksDue} {
		if err := tx.DeleteBucket(b); err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion is the schema version this build of klaxon writes.
func SchemaVersion() int { return len(migrations) }

func migrate(db *bbolt.DB, ms []migration) error {
	return db.Update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		var have uint64
		if v := meta.Get(keySchemaVersion); len(v) == 8 {
			have = binary.BigEndian.Uint64(v)
		}
		if have > uint64(len(ms)) {
			return fmt.Errorf("database schema version %d is newer than this klaxon understands (%d); run a newer klaxon or restore a backup", have, len(ms))
		}
		for i := have; i < uint64(len(ms)); i++ {
			if err := ms[i].up(tx); err != nil {
				return fmt.Errorf("migration %d (%s): %w", i+1, ms[i].name, err)
			}
		}
		return meta.Put(keySchemaVersion, u64(uint64(len(ms))))
	})
}

// schemaVersion reads the stored schema version.
func (s *core) schemaVersion() (int, error) {
	var v int
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketMeta).Get(keySchemaVersion); len(b) == 8 {
			v = int(binary.BigEndian.Uint64(b))
		}
		return nil
	})
	return v, err
}
