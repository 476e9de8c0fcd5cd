package bolt

import (
	"context"
	"encoding/json"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// Counts reads the totals in one read transaction. It costs a bucket
// lookup per incident and a decode per page.
func (s *Store) Counts(ctx context.Context) (store.Counts, error) {
	c := store.Counts{Deliveries: map[bot.DeliveryStatus]int{}}
	err := s.db.View(func(tx *bbolt.Tx) error {
		timeline := tx.Bucket(bucketTimeline)
		err := timeline.ForEachBucket(func(k []byte) error {
			c.TimelineEvents += timeline.Bucket(k).Sequence()
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketPages).ForEach(func(_, v []byte) error {
			var p struct {
				Deliveries []struct {
					Status bot.DeliveryStatus `json:"status"`
				} `json:"deliveries"`
			}
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			for _, d := range p.Deliveries {
				c.Deliveries[d.Status]++
			}
			return nil
		})
		if err != nil {
			return err
		}
		c.OutboxDue = tx.Bucket(bucketJobsDue).Stats().KeyN
		return ctx.Err()
	})
	return c, err
}
