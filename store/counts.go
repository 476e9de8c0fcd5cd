package store

import (
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
)

// Counts are the store's totals for /metrics.
type Counts struct {
	// TimelineEvents is every timeline event ever appended: each
	// incident's timeline bucket numbers its events from a sequence.
	TimelineEvents uint64
	// Deliveries counts page deliveries by status (pending, sent, failed,
	// cancelled).
	Deliveries map[bot.DeliveryStatus]int
	// OutboxDue is how many outbox queues (pages, hooks, chat) wait for
	// their next attempt.
	OutboxDue int
}

// Counts reads the totals in one read transaction. It costs a bucket
// lookup per incident and a decode per page.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	c := Counts{Deliveries: map[bot.DeliveryStatus]int{}}
	err := s.db.View(func(tx *bolt.Tx) error {
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
