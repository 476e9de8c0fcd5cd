package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
)

var _ bot.FollowUpStore = (*Store)(nil)

// AddFollowUp implements bot.Tx.
func (t txn) AddFollowUp(f *bot.FollowUp, ev bot.Event) error {
	if f.ID == [16]byte{} {
		f.ID = bot.NewID()
	}
	b := t.tx.Bucket(bucketFollowUps)
	n, err := b.NextSequence()
	if err != nil {
		return err
	}
	f.Number = int64(n)
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := b.Put(u64(n), data); err != nil {
		return err
	}
	ev.IncidentID = f.IncidentID
	_, err = appendEvent(t.tx, &ev)
	return err
}

func getFollowUp(tx *bolt.Tx, n int64) (*bot.FollowUp, error) {
	v := tx.Bucket(bucketFollowUps).Get(u64(uint64(n)))
	if v == nil {
		return nil, notFound(fmt.Sprintf("F-%d", n))
	}
	var f bot.FollowUp
	if err := json.Unmarshal(v, &f); err != nil {
		return nil, fmt.Errorf("decode follow-up %d: %w", n, err)
	}
	return &f, nil
}

// FollowUp implements bot.FollowUpStore.
func (s *Store) FollowUp(ctx context.Context, n int64) (*bot.FollowUp, error) {
	var f *bot.FollowUp
	err := s.db.View(func(tx *bolt.Tx) (err error) { f, err = getFollowUp(tx, n); return err })
	return f, err
}

// FollowUp implements bot.Tx.
func (t txn) FollowUp(n int64) (*bot.FollowUp, error) { return getFollowUp(t.tx, n) }

// PutFollowUp implements bot.Tx.
func (t txn) PutFollowUp(f *bot.FollowUp) error {
	if t.tx.Bucket(bucketFollowUps).Get(u64(uint64(f.Number))) == nil {
		return notFound(f.Key())
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketFollowUps).Put(u64(uint64(f.Number)), data)
}

// FollowUps implements bot.FollowUpStore.
func (s *Store) FollowUps(ctx context.Context) ([]*bot.FollowUp, error) {
	var out []*bot.FollowUp
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFollowUps).ForEach(func(k, v []byte) error {
			var f bot.FollowUp
			if err := json.Unmarshal(v, &f); err != nil {
				return fmt.Errorf("decode follow-up %x: %w", k, err)
			}
			out = append(out, &f)
			return nil
		})
	})
	return out, err
}

var _ bot.PostmortemStore = (*Store)(nil)

// PutPostmortem implements bot.Tx.
func (t txn) PutPostmortem(incidentID uuid.UUID, markdown []byte) error {
	return t.tx.Bucket(bucketPostmortems).Put(incidentID[:], markdown)
}

// Postmortem implements bot.PostmortemStore.
func (s *Store) Postmortem(ctx context.Context, incidentID uuid.UUID) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPostmortems).Get(incidentID[:])
		if v == nil {
			return notFound("A postmortem for that incident")
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

var _ bot.AlertStore = (*Store)(nil)

// AlertIncident implements bot.AlertStore.
func (s *Store) AlertIncident(ctx context.Context, key string) (uuid.UUID, bool, error) {
	var id uuid.UUID
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketAlertKeys).Get([]byte(key)); len(v) == 16 {
			copy(id[:], v)
			ok = true
		}
		return nil
	})
	return id, ok, err
}

// SetAlertIncident implements bot.Tx.
func (t txn) SetAlertIncident(key string, incidentID uuid.UUID) error {
	return t.tx.Bucket(bucketAlertKeys).Put([]byte(key), incidentID[:])
}

// AlertIncident implements bot.Tx.
func (t txn) AlertIncident(key string) (uuid.UUID, bool, error) {
	var id uuid.UUID
	v := t.tx.Bucket(bucketAlertKeys).Get([]byte(key))
	if len(v) != 16 {
		return id, false, nil
	}
	copy(id[:], v)
	return id, true, nil
}
