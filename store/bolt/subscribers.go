package bolt

import (
	"context"
	"encoding/json"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
)

var _ bot.SubscriberStore = (*Store)(nil)

// Subscribers implements bot.Tx.
func (t txn) Subscribers() ([]*bot.Subscriber, error) { return subscribers(t.tx) }

func subscribers(tx *bbolt.Tx) ([]*bot.Subscriber, error) {
	var out []*bot.Subscriber
	err := tx.Bucket(bucketSubscribers).ForEach(func(k, v []byte) error {
		var s bot.Subscriber
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		out = append(out, &s)
		return nil
	})
	return out, err
}

// PutSubscriber implements bot.Tx.
func (t txn) PutSubscriber(s *bot.Subscriber) error {
	data, err := json.Marshal(s)
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
func (s *Store) CountSubscribers(ctx context.Context) (int, error) {
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(bucketSubscribers).Stats().KeyN
		return nil
	})
	return n, err
}
