package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
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
	data, err := store.Encode(f)
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

func getFollowUp(tx *bbolt.Tx, n int64) (*bot.FollowUp, error) {
	v := tx.Bucket(bucketFollowUps).Get(u64(uint64(n)))
	if v == nil {
		return nil, notFound(fmt.Sprintf("F-%d", n))
	}
	var f bot.FollowUp
	if err := store.Decode(v, &f); err != nil {
		return nil, fmt.Errorf("decode follow-up %d: %w", n, err)
	}
	return &f, nil
}

// FollowUp implements bot.FollowUpStore.
func (s recordReads) FollowUp(ctx context.Context, n int64) (*bot.FollowUp, error) {
	var f *bot.FollowUp
	err := s.db.View(func(tx *bbolt.Tx) (err error) { f, err = getFollowUp(tx, n); return err })
	return f, err
}

// FollowUp implements bot.Tx.
func (t txn) FollowUp(n int64) (*bot.FollowUp, error) { return getFollowUp(t.tx, n) }

// PutFollowUp implements bot.Tx.
func (t txn) PutFollowUp(f *bot.FollowUp) error {
	if t.tx.Bucket(bucketFollowUps).Get(u64(uint64(f.Number))) == nil {
		return notFound(f.Key())
	}
	data, err := store.Encode(f)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketFollowUps).Put(u64(uint64(f.Number)), data)
}

// FollowUps implements bot.FollowUpStore.
func (s recordReads) FollowUps(ctx context.Context) ([]*bot.FollowUp, error) {
	var out []*bot.FollowUp
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketFollowUps).ForEach(func(k, v []byte) error {
			var f bot.FollowUp
			if err := store.Decode(v, &f); err != nil {
				return fmt.Errorf("decode follow-up %x: %w", k, err)
			}
			out = append(out, &f)
			return nil
		})
	})
	return out, err
}
