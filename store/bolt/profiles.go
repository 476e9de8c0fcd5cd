package bolt

import (
	"context"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.ProfileStore = (*Store)(nil)

// Profile implements bot.Tx.
func (t txn) Profile(person string) (*bot.Profile, error) {
	return decodeProfile(person, t.tx.Bucket(bucketProfiles).Get([]byte(person)))
}

func decodeProfile(person string, v []byte) (*bot.Profile, error) {
	p := &bot.Profile{Person: person}
	if v == nil {
		return p, nil
	}
	if err := store.Decode(v, p); err != nil {
		return nil, err
	}
	return p, nil
}

// PutProfile implements bot.Tx.
func (t txn) PutProfile(p *bot.Profile) error {
	data, err := store.Encode(p)
	if err != nil {
		return err
	}
	return t.tx.Bucket(bucketProfiles).Put([]byte(p.Person), data)
}

// Profiles implements bot.ProfileStore.
func (s recordReads) Profiles(ctx context.Context) ([]*bot.Profile, error) {
	var out []*bot.Profile
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketProfiles).ForEach(func(k, v []byte) error {
			p, err := decodeProfile(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}
