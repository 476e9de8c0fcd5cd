package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
)

var _ bot.HookStore = (*Store)(nil)

// EnqueueHooks implements bot.HookStore: the deliveries and their due
// rows are written in one transaction.
func (s *Store) EnqueueHooks(ctx context.Context, ds []bot.HookDelivery) error {
	return s.update(func(tx *bolt.Tx) error {
		for _, d := range ds {
			if err := putHook(tx, &d, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
}

func putHook(tx *bolt.Tx, d *bot.HookDelivery, prevDue time.Time) error {
	v, err := json.Marshal(d)
	if err != nil {
		return err
	}
	due := tx.Bucket(bucketHooksDue)
	if !prevDue.IsZero() {
		if err := due.Delete(timeKey(prevDue, []byte(d.Key))); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketHooks).Put([]byte(d.Key), v); err != nil {
		return err
	}
	if d.Status == bot.DeliveryPending {
		return due.Put(timeKey(d.NextAttempt, []byte(d.Key)), nil)
	}
	return nil
}

// DueHooks implements bot.HookStore: pending deliveries due at or before
// now, earliest first.
func (s *Store) DueHooks(ctx context.Context, now time.Time, limit int) ([]bot.HookDelivery, error) {
	var out []bot.HookDelivery
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachDue(tx.Bucket(bucketHooksDue), now, limit, func(_ time.Time, key []byte) error {
			var d bot.HookDelivery
			if err := json.Unmarshal(tx.Bucket(bucketHooks).Get(key), &d); err != nil {
				return fmt.Errorf("decode hook delivery %s: %w", key, err)
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// UpdateHook implements bot.HookStore.
func (s *Store) UpdateHook(ctx context.Context, key string, fn func(*bot.HookDelivery) error) (*bot.HookDelivery, error) {
	var out bot.HookDelivery
	err := s.update(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketHooks).Get([]byte(key))
		if v == nil {
			return notFound("That hook delivery")
		}
		if err := json.Unmarshal(v, &out); err != nil {
			return err
		}
		prev := out.NextAttempt
		if out.Status != bot.DeliveryPending {
			prev = time.Time{}
		}
		if err := fn(&out); err != nil {
			return err
		}
		return putHook(tx, &out, prev)
	})
	return &out, err
}

// RetryHooksNow implements bot.HookStore.
func (s *Store) RetryHooksNow(ctx context.Context, hook string, now time.Time) (int, error) {
	get := func(tx *bolt.Tx, key []byte) (*bot.HookDelivery, error) {
		var d bot.HookDelivery
		if err := json.Unmarshal(tx.Bucket(bucketHooks).Get(key), &d); err != nil {
			return nil, fmt.Errorf("decode hook delivery %s: %w", key, err)
		}
		return &d, nil
	}
	return s.pullForward(bucketHooksDue, now, func(tx *bolt.Tx, key []byte) (bool, error) {
		d, err := get(tx, key)
		if err != nil {
			return false, err
		}
		return d.Hook == hook && d.Status == bot.DeliveryPending && d.Attempts > 0, nil
	}, func(tx *bolt.Tx, key []byte) error {
		d, err := get(tx, key)
		if err != nil {
			return err
		}
		d.NextAttempt = now
		v, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketHooks).Put(key, v)
	})
}
