package bolt

import (
	"context"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.Tx = (*txn)(nil)

// txn is one write transaction as bot.Tx sees it.
type txn struct{ tx *bbolt.Tx }

// Update implements bot.Updater: fn's reads and writes commit together,
// synced, or not at all. Like every write it is group-committed, so fn may
// run more than once.
func (s *core) Update(ctx context.Context, fn func(tx bot.Tx) error) error {
	return s.update(func(tx *bbolt.Tx) error { return fn(txn{tx}) })
}

func (t txn) Incident(id uuid.UUID) (*bot.Incident, error) { return getIncident(t.tx, id[:]) }

func (t txn) CreateIncident(inc *bot.Incident, events ...bot.Event) error {
	if inc.ID == uuid.Nil {
		inc.ID = bot.NewID()
	}
	n, err := t.tx.Bucket(bucketIncidents).NextSequence()
	if err != nil {
		return err
	}
	inc.Number = int64(n)
	if err := putIncident(t.tx, inc, nil); err != nil {
		return err
	}
	return appendEvents(t.tx, inc.ID, events)
}

func (t txn) PutIncident(inc *bot.Incident) error {
	prev, err := getIncident(t.tx, inc.ID[:])
	if err != nil {
		return err
	}
	inc.Number = prev.Number
	return putIncident(t.tx, inc, prev)
}

func (t txn) AppendEvents(incidentID uuid.UUID, events ...bot.Event) error {
	return appendEvents(t.tx, incidentID, events)
}

func (t txn) Page(id uuid.UUID) (*bot.Page, error) { return getPage(t.tx, id) }

func (t txn) Pages(incidentID uuid.UUID) ([]*bot.Page, error) { return incidentPages(t.tx, incidentID) }

func (t txn) PutPage(p *bot.Page) error { return putPage(t.tx, p) }

func (t txn) Delivery(pageID uuid.UUID, key string) (*bot.Delivery, error) {
	return getDelivery(t.tx, pageID, key)
}

func (t txn) Deliveries(pageID uuid.UUID, prefix string) ([]bot.Delivery, error) {
	return pageDeliveries(t.tx, pageID, prefix)
}

func (t txn) PutDelivery(d *bot.Delivery) error { return putDelivery(t.tx, d) }

func (t txn) SetReminder(r bot.Reminder) error {
	if err := deleteReminder(t.tx, r.IncidentID, r.Kind); err != nil || r.At.IsZero() {
		return err
	}
	k := reminderKey(r.IncidentID, r.Kind)
	if err := t.tx.Bucket(bucketReminders).Put(k, u64(uint64(r.At.UnixNano()))); err != nil {
		return err
	}
	return t.tx.Bucket(bucketRemindersDue).Put(timeKey(r.At, k), nil)
}

func (t txn) NameMessage(name string, ref bot.MessageRef) error {
	data, err := store.Encode(ref)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketNamed).Put([]byte(name), data)
}

// Named implements bot.JobStore.
func (s recordReads) Named(ctx context.Context, name string) (bot.MessageRef, bool, error) {
	var ref bot.MessageRef
	var found bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketNamed).Get([]byte(name))
		if v == nil {
			return nil
		}
		found = true
		return store.Decode(v, &ref)
	})
	return ref, found, err
}

func (t txn) LinkPage(p bot.Platform, ref bot.MessageRef, pageID uuid.UUID) error {
	return t.tx.Bucket(bucketPageRefs).Put(refKey(p, ref), pageID[:])
}
