package bolt

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
)

var _ bot.ReminderStore = (*Store)(nil)

func reminderKey(id uuid.UUID, kind string) []byte {
	return append(append([]byte(nil), id[:]...), kind...)
}

func deleteReminder(tx *bbolt.Tx, id uuid.UUID, kind string) error {
	k := reminderKey(id, kind)
	idx := tx.Bucket(bucketReminders)
	if v := idx.Get(k); len(v) == 8 {
		at := time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		if err := tx.Bucket(bucketRemindersDue).Delete(timeKey(at, k)); err != nil {
			return err
		}
	}
	return idx.Delete(k)
}

// DueReminders implements bot.ReminderStore.
func (s pageReads) DueReminders(ctx context.Context, now time.Time) ([]bot.Reminder, error) {
	var out []bot.Reminder
	err := s.db.View(func(tx *bbolt.Tx) error {
		return eachDue(tx.Bucket(bucketRemindersDue), now, 0, func(at time.Time, key []byte) error {
			id, err := uuid.FromBytes(key[:16])
			if err != nil {
				return err
			}
			out = append(out, bot.Reminder{IncidentID: id, Kind: string(key[16:]), At: at})
			return nil
		})
	})
	return out, err
}
