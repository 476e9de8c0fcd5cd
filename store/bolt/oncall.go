package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.OnCallStore = (*Store)(nil)

// AddOnCallChange implements bot.Tx. It never replaces an entry: history
// is not rewritten.
func (t txn) AddOnCallChange(c *bot.OnCallChange) error {
	if c.ID == uuid.Nil {
		c.ID = bot.NewID()
	}
	data, err := store.Encode(c)
	if err != nil {
		return err
	}
	b := t.tx.Bucket(bucketOnCall)
	if b.Get(c.ID[:]) != nil {
		return fmt.Errorf("store: on-call change %s exists already", c.ID)
	}
	return b.Put(c.ID[:], data)
}

// OnCallChanges returns the whole on-call history, oldest first.
func (s recordReads) OnCallChanges(ctx context.Context) ([]bot.OnCallChange, error) {
	var out []bot.OnCallChange
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketOnCall).ForEach(func(k, v []byte) error {
			var c bot.OnCallChange
			if err := store.Decode(v, &c); err != nil {
				return fmt.Errorf("decode on-call change %x: %w", k, err)
			}
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// Cursor returns how far the job key has got.
func (s recordReads) Cursor(ctx context.Context, key string) (time.Time, bool, error) {
	var t time.Time
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketCursors).Get([]byte(key)); len(v) == 8 {
			t, ok = time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(), true
		}
		return nil
	})
	return t, ok, err
}

// SetCursor implements bot.Tx.
func (t txn) SetCursor(key string, at time.Time) error {
	return t.tx.Bucket(bucketCursors).Put([]byte(key), u64(uint64(at.UnixNano())))
}
