package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.SessionStore = (*Store)(nil)

// PutSession implements bot.Tx.
func (t txn) PutSession(s *bot.Session) error {
	data, err := store.Encode(s)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketSessions).Put([]byte(s.ID), data)
}

// DeleteSession implements bot.Tx.
func (t txn) DeleteSession(id string) error {
	return t.tx.Bucket(bucketSessions).Delete([]byte(id))
}

// Session implements bot.SessionStore.
func (s recordReads) Session(ctx context.Context, id string) (*bot.Session, error) {
	var out *bot.Session
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSessions).Get([]byte(id))
		if v == nil {
			return notFound("That session")
		}
		out = &bot.Session{}
		return store.Decode(v, out)
	})
	return out, err
}
