package bolt

import (
	"bytes"
	"context"
	"encoding/binary"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// Counts reads the totals in one read transaction: incidents by class and
// deliveries by status are kept as counters as they change; the timeline
// total costs a bucket lookup per incident.
func (s *Store) Counts(ctx context.Context) (store.Counts, error) {
	c := store.Counts{Deliveries: map[bot.DeliveryStatus]int{}, Incidents: map[store.IncidentClass]int{}}
	err := s.db.View(func(tx *bbolt.Tx) error {
		err := tx.Bucket(bucketClasses).ForEach(func(k, v []byte) error {
			st, sev, _ := bytes.Cut(k, []byte{0})
			c.Incidents[store.IncidentClass{Status: string(st), Severity: string(sev)}] = int(binary.BigEndian.Uint64(v))
			return nil
		})
		if err != nil {
			return err
		}
		timeline := tx.Bucket(bucketTimeline)
		err = timeline.ForEachBucket(func(k []byte) error {
			c.TimelineEvents += timeline.Bucket(k).Sequence()
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketDeliveryCounts).ForEach(func(k, v []byte) error {
			c.Deliveries[bot.DeliveryStatus(k)] = int(binary.BigEndian.Uint64(v))
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
