package bolt

import (
	"context"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
)

var _ bot.AlertStore = (*Store)(nil)

// AlertIncident implements bot.AlertStore.
func (s recordReads) AlertIncident(ctx context.Context, key string) (uuid.UUID, bool, error) {
	var id uuid.UUID
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) error {
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
