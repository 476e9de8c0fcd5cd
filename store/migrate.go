package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// A migration moves the schema one version up. Migrations run in order at
// Open, all in one transaction: a crash mid-way leaves the old version.
// Never edit or reorder a released migration; append a new one.
type migration struct {
	name string
	up   func(tx *bolt.Tx) error
}

// migrations is the schema history. Version N is the state after
// migrations[N-1] ran.
var migrations = []migration{
	{"create buckets", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketIncidents, bucketNumbers, bucketChannels, bucketTimeline, bucketSeen} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"on-call history", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketOnCall)
		return err
	}},
	{"job cursors", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketCursors)
		return err
	}},
	{"paging", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketPages, bucketDue, bucketOutbox, bucketOutboxDue, bucketPageRefs} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"reminders", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketReminders, bucketRemindersDue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"follow-ups", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketFollowUps)
		return err
	}},
	{"postmortems", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketPostmortems)
		return err
	}},
	{"alert keys", func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketAlertKeys)
		return err
	}},
	{"heartbeats", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketHeartbeats, bucketHeartbeatsDue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"outgoing hooks", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketHooks, bucketHooksDue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
	{"chat jobs", func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketJobs, bucketJobsDue, bucketJobsCoalesce} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
}

// SchemaVersion is the schema version this build of klaxon writes.
func SchemaVersion() int { return len(migrations) }

func migrate(db *bolt.DB, ms []migration) error {
	return db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		var have uint64
		if v := meta.Get(keySchemaVersion); len(v) == 8 {
			have = binary.BigEndian.Uint64(v)
		}
		if have > uint64(len(ms)) {
			return fmt.Errorf("database schema version %d is newer than this klaxon understands (%d); run a newer klaxon or restore a backup", have, len(ms))
		}
		for i := have; i < uint64(len(ms)); i++ {
			if err := ms[i].up(tx); err != nil {
				return fmt.Errorf("migration %d (%s): %w", i+1, ms[i].name, err)
			}
		}
		return meta.Put(keySchemaVersion, u64(uint64(len(ms))))
	})
}

// schemaVersion reads the stored schema version.
func (s *Store) schemaVersion() (int, error) {
	var v int
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMeta).Get(keySchemaVersion); len(b) == 8 {
			v = int(binary.BigEndian.Uint64(b))
		}
		return nil
	})
	return v, err
}
