package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
)

var _ bot.PageStore = (*Store)(nil)

func timeKey(t time.Time, id []byte) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(t.UnixNano()))
	return append(k, id...)
}

// eachDue calls fn with the time and id of every row of a due index
// (timeKey keys) due at or before now, earliest first; at most limit rows
// unless limit is 0.
func eachDue(b *bolt.Bucket, now time.Time, limit int, fn func(at time.Time, id []byte) error) error {
	end := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
	c := b.Cursor()
	n := 0
	for k, _ := c.First(); k != nil && bytes.Compare(k[:8], end) <= 0 && (limit <= 0 || n < limit); k, _ = c.Next() {
		if err := fn(time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))).UTC(), k[8:]); err != nil {
			return err
		}
		n++
	}
	return nil
}

func getPage(tx *bolt.Tx, id uuid.UUID) (*bot.Page, error) {
	v := tx.Bucket(bucketPages).Get(id[:])
	if v == nil {
		return nil, notFound("That page")
	}
	var p bot.Page
	if err := json.Unmarshal(v, &p); err != nil {
		return nil, fmt.Errorf("decode page %s: %w", id, err)
	}
	return &p, nil
}

// putPage writes p and moves its timer in the due index.
func putPage(tx *bolt.Tx, p *bot.Page, prev *bot.Page) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	due := tx.Bucket(bucketDue)
	if prev != nil && !prev.NextAt.IsZero() {
		if err := due.Delete(timeKey(prev.NextAt, prev.ID[:])); err != nil {
			return err
		}
	}
	if p.Active() && !p.NextAt.IsZero() {
		if err := due.Put(timeKey(p.NextAt, p.ID[:]), nil); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketPages).Put(p.ID[:], data)
}

// enqueue adds deliveries to the outbox; a key already there is kept as is.
func enqueue(tx *bolt.Tx, ds []bot.Delivery) error {
	out, due := tx.Bucket(bucketOutbox), tx.Bucket(bucketOutboxDue)
	for _, d := range ds {
		if out.Get([]byte(d.Key)) != nil {
			continue
		}
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := out.Put([]byte(d.Key), data); err != nil {
			return err
		}
		if err := due.Put(timeKey(d.NextAttempt, []byte(d.Key)), nil); err != nil {
			return err
		}
	}
	return nil
}

// CreatePage implements bot.PageStore.
func (s *Store) CreatePage(ctx context.Context, p *bot.Page) error {
	if p.ID == uuid.Nil {
		p.ID = bot.NewID()
	}
	return s.update(func(tx *bolt.Tx) error { return putPage(tx, p, nil) })
}

// Page implements bot.PageStore.
func (s *Store) Page(ctx context.Context, id uuid.UUID) (*bot.Page, error) {
	var p *bot.Page
	err := s.db.View(func(tx *bolt.Tx) (err error) { p, err = getPage(tx, id); return err })
	return p, err
}

// PagesForIncident implements bot.PageStore.
func (s *Store) PagesForIncident(ctx context.Context, incidentID uuid.UUID) ([]*bot.Page, error) {
	var out []*bot.Page
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPages).ForEach(func(k, v []byte) error {
			var p bot.Page
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("decode page %x: %w", k, err)
			}
			if p.IncidentID == incidentID {
				out = append(out, &p)
			}
			return nil
		})
	})
	return out, err
}

// UpdatePage implements bot.PageStore.
func (s *Store) UpdatePage(ctx context.Context, id uuid.UUID, fn func(*bot.Page) ([]bot.Delivery, []bot.Event, error)) (*bot.Page, error) {
	var out *bot.Page
	err := s.update(func(tx *bolt.Tx) error {
		prev, err := getPage(tx, id)
		if err != nil {
			return err
		}
		cur := *prev
		cur.Paged = append([]bot.Paged(nil), prev.Paged...)
		ds, evs, err := fn(&cur)
		if err != nil {
			return err
		}
		cur.ID = prev.ID
		if err := putPage(tx, &cur, prev); err != nil {
			return err
		}
		if err := enqueue(tx, ds); err != nil {
			return err
		}
		if err := appendEvents(tx, cur.IncidentID, evs); err != nil {
			return err
		}
		out = &cur
		return nil
	})
	return out, err
}

// DuePages implements bot.PageStore.
func (s *Store) DuePages(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachDue(tx.Bucket(bucketDue), now, 0, func(_ time.Time, key []byte) error {
			id, err := uuid.FromBytes(key)
			if err != nil {
				return err
			}
			out = append(out, id)
			return nil
		})
	})
	return out, err
}

func getDelivery(tx *bolt.Tx, key string) (*bot.Delivery, error) {
	v := tx.Bucket(bucketOutbox).Get([]byte(key))
	if v == nil {
		return nil, notFound("That delivery")
	}
	var d bot.Delivery
	if err := json.Unmarshal(v, &d); err != nil {
		return nil, fmt.Errorf("decode delivery %s: %w", key, err)
	}
	return &d, nil
}

// DueDeliveries implements bot.PageStore.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]bot.Delivery, error) {
	var out []bot.Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachDue(tx.Bucket(bucketOutboxDue), now, limit, func(_ time.Time, key []byte) error {
			d, err := getDelivery(tx, string(key))
			if err != nil {
				return err
			}
			out = append(out, *d)
			return nil
		})
	})
	return out, err
}

// UpdateDelivery implements bot.PageStore. A delivery that is no longer
// pending leaves the due index.
func (s *Store) UpdateDelivery(ctx context.Context, key string, fn func(*bot.Delivery) ([]bot.Event, error)) (*bot.Delivery, error) {
	var out *bot.Delivery
	err := s.update(func(tx *bolt.Tx) error {
		prev, err := getDelivery(tx, key)
		if err != nil {
			return err
		}
		cur := *prev
		evs, err := fn(&cur)
		if err != nil {
			return err
		}
		if err := appendEvents(tx, cur.IncidentID, evs); err != nil {
			return err
		}
		cur.Key = prev.Key
		due := tx.Bucket(bucketOutboxDue)
		if prev.Status == bot.DeliveryPending {
			if err := due.Delete(timeKey(prev.NextAttempt, []byte(key))); err != nil {
				return err
			}
		}
		if cur.Status == bot.DeliveryPending {
			if err := due.Put(timeKey(cur.NextAttempt, []byte(key)), nil); err != nil {
				return err
			}
		}
		data, err := json.Marshal(cur)
		if err != nil {
			return err
		}
		out = &cur
		return tx.Bucket(bucketOutbox).Put([]byte(key), data)
	})
	return out, err
}

// RetryNow implements bot.PageStore.
func (s *Store) RetryNow(ctx context.Context, pager string, now time.Time) (int, error) {
	return s.pullForward(bucketOutboxDue, now, func(tx *bolt.Tx, key []byte) (bool, error) {
		d, err := getDelivery(tx, string(key))
		if err != nil {
			return false, err
		}
		return d.Pager == pager && d.Status == bot.DeliveryPending && d.Attempts > 0, nil
	}, func(tx *bolt.Tx, key []byte) error {
		d, err := getDelivery(tx, string(key))
		if err != nil {
			return err
		}
		d.NextAttempt = now
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketOutbox).Put(key, data)
	})
}

// pullForward makes the rows of the due index in bucket that fall due
// after now, and that pick chooses, due at now; move rewrites each chosen
// row's record to match. It reads first and writes only when there is
// something to move, as there usually is not.
func (s *Store) pullForward(bucket []byte, now time.Time, pick func(tx *bolt.Tx, key []byte) (bool, error), move func(tx *bolt.Tx, key []byte) error) (int, error) {
	chosen := func(tx *bolt.Tx) ([][]byte, error) {
		var out [][]byte
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()+1))); k != nil; k, _ = c.Next() {
			ok, err := pick(tx, k[8:])
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, bytes.Clone(k))
			}
		}
		return out, nil
	}
	var found [][]byte
	if err := s.db.View(func(tx *bolt.Tx) (err error) { found, err = chosen(tx); return err }); err != nil || len(found) == 0 {
		return 0, err
	}
	n := 0
	err := s.update(func(tx *bolt.Tx) error {
		rows, err := chosen(tx)
		if err != nil {
			return err
		}
		due := tx.Bucket(bucket)
		for _, k := range rows {
			if err := due.Delete(k); err != nil {
				return err
			}
			if err := due.Put(timeKey(now, k[8:]), nil); err != nil {
				return err
			}
			if err := move(tx, k[8:]); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	return n, err
}

// Deliveries implements bot.PageStore. Delivery keys start with their
// page's id, so this reads only the page's own rows.
func (s *Store) Deliveries(ctx context.Context, pageID uuid.UUID) ([]bot.Delivery, error) {
	var out []bot.Delivery
	prefix := []byte(pageID.String() + ":")
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachWithPrefix(tx.Bucket(bucketOutbox), prefix, "delivery", func(d bot.Delivery) bool {
			if d.PageID == pageID {
				out = append(out, d)
			}
			return true
		})
	})
	return out, err
}

func refKey(p bot.Platform, ref bot.MessageRef) []byte {
	return []byte(string(p) + "|" + ref.Channel + "|" + ref.ID)
}

// PutPageRef implements bot.PageStore.
func (s *Store) PutPageRef(ctx context.Context, p bot.Platform, ref bot.MessageRef, page uuid.UUID) error {
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPageRefs).Put(refKey(p, ref), page[:]) })
}

// PageByRef implements bot.PageStore.
func (s *Store) PageByRef(ctx context.Context, p bot.Platform, ref bot.MessageRef) (uuid.UUID, bool, error) {
	var id uuid.UUID
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketPageRefs).Get(refKey(p, ref)); len(v) == 16 {
			copy(id[:], v)
			ok = true
		}
		return nil
	})
	return id, ok, err
}
