package bolt

import (
	"context"
	"encoding/binary"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.PostmortemStore = (*Store)(nil)

// PutPostmortem implements bot.Tx.
func (t txn) PutPostmortem(incidentID uuid.UUID, markdown []byte) error {
	return t.tx.Bucket(bucketPostmortems).Put(incidentID[:], markdown)
}

// Postmortem implements bot.PostmortemStore.
func (s recordReads) Postmortem(ctx context.Context, incidentID uuid.UUID) ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketPostmortems).Get(incidentID[:])
		if v == nil {
			return notFound("A postmortem for that incident")
		}
		out = append([]byte(nil), v...)
		return nil
	})
	return out, err
}

// versionKey is incident id | version (8 bytes, big-endian): an
// incident's versions in order.
func versionKey(id uuid.UUID, n int) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), id[:]...), uint64(n))
}

// LatestPostmortemVersion implements bot.Tx.
func (t txn) LatestPostmortemVersion(incidentID uuid.UUID) (*bot.PostmortemVersion, bool, error) {
	c := t.tx.Bucket(bucketPostmortemVersions).Cursor()
	var v []byte
	k, _ := c.Seek(versionKey(incidentID, 1<<62))
	if k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k == nil || len(k) != 24 || uuid.UUID(k[:16]) != incidentID {
		return nil, false, nil
	}
	var pv bot.PostmortemVersion
	if err := store.Decode(v, &pv); err != nil {
		return nil, false, err
	}
	return &pv, true, nil
}

// AddPostmortemVersion implements bot.Tx.
func (t txn) AddPostmortemVersion(v *bot.PostmortemVersion) error {
	last, ok, err := t.LatestPostmortemVersion(v.IncidentID)
	if err != nil {
		return err
	}
	v.N = 1
	if ok {
		v.N = last.N + 1
	}
	data, err := store.Encode(v)
	if err != nil {
		return err
	}
	if err := t.tx.Bucket(bucketPostmortemVersions).Put(versionKey(v.IncidentID, v.N), data); err != nil {
		return err
	}
	return t.PutPostmortem(v.IncidentID, []byte(v.Markdown))
}

// PostmortemVersions implements bot.PostmortemStore.
func (s recordReads) PostmortemVersions(ctx context.Context, incidentID uuid.UUID) ([]bot.PostmortemVersion, error) {
	var out []bot.PostmortemVersion
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketPostmortemVersions).Cursor()
		for k, v := c.Seek(incidentID[:]); k != nil && uuid.UUID(k[:16]) == incidentID; k, v = c.Next() {
			var pv bot.PostmortemVersion
			if err := store.Decode(v, &pv); err != nil {
				return err
			}
			out = append(out, pv)
		}
		return nil
	})
	return out, err
}
