package bolt

import (
	"context"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
)

var _ bot.PostmortemStore = (*Store)(nil)

// PutPostmortem implements bot.Tx.
func (t txn) PutPostmortem(incidentID uuid.UUID, markdown []byte) error {
	return t.tx.Bucket(bucketPostmortems).Put(incidentID[:], markdown)
}

// Postmortem implements bot.PostmortemStore.
func (s *Store) Postmortem(ctx context.Context, incidentID uuid.UUID) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketPostmortems).Get(incidentID[:])
		if v == nil {
			return notFound("A postmortem for that incident")
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}
