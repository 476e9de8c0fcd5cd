package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.HeartbeatStore = (*Store)(nil)

// Heartbeat implements bot.HeartbeatStore.
func (s heartbeatReads) Heartbeat(ctx context.Context, name string) (bot.HeartbeatState, bool, error) {
	var hb bot.HeartbeatState
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketHeartbeats).Get([]byte(name))
		if v == nil {
			return nil
		}
		ok = true
		return store.Decode(v, &hb)
	})
	return hb, ok, err
}

// PutHeartbeat implements bot.HeartbeatStore: the state and its due row
// change in one transaction.
func (s heartbeatReads) PutHeartbeat(ctx context.Context, hb bot.HeartbeatState) error {
	v, err := store.Encode(hb)
	if err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		b, due := tx.Bucket(bucketHeartbeats), tx.Bucket(bucketHeartbeatsDue)
		if old := b.Get([]byte(hb.Name)); old != nil {
			var prev bot.HeartbeatState
			if err := store.Decode(old, &prev); err != nil {
				return err
			}
			if err := due.Delete(timeKey(prev.Due, []byte(hb.Name))); err != nil {
				return err
			}
		}
		if err := b.Put([]byte(hb.Name), v); err != nil {
			return err
		}
		return due.Put(timeKey(hb.Due, []byte(hb.Name)), nil)
	})
}

// DueHeartbeats implements bot.HeartbeatStore: the names whose next ping
// was due at or before now, earliest first.
func (s heartbeatReads) DueHeartbeats(ctx context.Context, now time.Time) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		return eachDue(tx.Bucket(bucketHeartbeatsDue), now, 0, func(_ time.Time, name []byte) error {
			out = append(out, string(name))
			return nil
		})
	})
	return out, err
}
