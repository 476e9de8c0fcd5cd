package bolt

import (
	"encoding/json"
	"fmt"
	"io"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// Export writes every incident, oldest first, each followed by its timeline,
// as JSON lines. It reads one consistent snapshot and returns the number of
// incidents and events written.
func (s *Store) Export(w io.Writer) (incidents, events int, err error) {
	enc := json.NewEncoder(w)
	err = s.db.View(func(tx *bbolt.Tx) error {
		tl := tx.Bucket(bucketTimeline)
		return tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
			var inc bot.Incident
			if err := store.Decode(v, &inc); err != nil {
				return fmt.Errorf("decode incident %x: %w", k, err)
			}
			if err := enc.Encode(store.ExportRecord{Type: "incident", Incident: &inc}); err != nil {
				return err
			}
			incidents++
			b := tl.Bucket(k)
			if b == nil {
				return nil
			}
			return b.ForEach(func(_, v []byte) error {
				var ev bot.Event
				if err := store.Decode(v, &ev); err != nil {
					return fmt.Errorf("decode event of incident %x: %w", k, err)
				}
				events++
				return enc.Encode(store.ExportRecord{Type: "event", Event: &ev})
			})
		})
	})
	return incidents, events, err
}
