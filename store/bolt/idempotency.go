package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.IdempotencyStore = (*Store)(nil)

// Idempotency implements bot.Tx.
func (t txn) Idempotency(key string) (*bot.IdempotencyRecord, error) {
	v := t.tx.Bucket(bucketIdempotency).Get([]byte(key))
	if v == nil {
		return nil, nil
	}
	var r bot.IdempotencyRecord
	if err := store.Decode(v, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// PutIdempotency implements bot.Tx.
func (t txn) PutIdempotency(r *bot.IdempotencyRecord) error {
	data, err := store.Encode(r)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketIdempotency).Put([]byte(r.Key), data)
}

// DeleteIdempotency implements bot.Tx.
func (t txn) DeleteIdempotency(key string) error {
	return t.tx.Bucket(bucketIdempotency).Delete([]byte(key))
}

// PruneIdempotency implements bot.IdempotencyStore: a walk over the keys
// kept, which are one day's API writes with a key.
func (s recordReads) PruneIdempotency(ctx context.Context, before time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketIdempotency)
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var r bot.IdempotencyRecord
			if store.Decode(v, &r) != nil || r.Created.Before(before) {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
