package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.SubscriberStore = (*Store)(nil)

// Subscribers implements bot.Tx.
func (t txn) Subscribers(after string, limit int) ([]*bot.Subscriber, error) {
	var out []*bot.Subscriber
	c := t.tx.Bucket(bucketSubscribers).Cursor()
	k, v := c.Seek([]byte(after))
	if k != nil && string(k) == after {
		k, v = c.Next()
	}
	for ; k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
		var s bot.Subscriber
		if err := store.Decode(v, &s); err != nil {
			return nil, fmt.Errorf("decode subscriber %s: %w", k, err)
		}
		out = append(out, &s)
	}
	return out, nil
}

// PutSubscriber implements bot.Tx.
func (t txn) PutSubscriber(s *bot.Subscriber) error {
	data, err := store.Encode(s)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketSubscribers).Put([]byte(s.ID), data)
}

// DeleteSubscriber implements bot.Tx.
func (t txn) DeleteSubscriber(id string) error {
	return t.tx.Bucket(bucketSubscribers).Delete([]byte(id))
}

// CountSubscribers implements bot.SubscriberStore.
func (s recordReads) CountSubscribers(ctx context.Context) (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketSubscribers).Stats().KeyN
		return nil
	})
	return n, err
}
