package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.PageStore = (*Store)(nil)

func timeKey(t time.Time, id []byte) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(id)), uint64(t.UnixNano()))
	return append(k, id...)
}

// eachDue calls fn with the time and id of every row of a due index
// (timeKey keys) due at or before now, earliest first; at most limit rows
// unless limit is 0.
func eachDue(b *bbolt.Bucket, now time.Time, limit int, fn func(at time.Time, id []byte) error) error {
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

func getPage(tx *bbolt.Tx, id uuid.UUID) (*bot.Page, error) {
	v := tx.Bucket(bucketPages).Get(id[:])
	if v == nil {
		return nil, notFound("That page")
	}
	var p bot.Page
	if err := store.Decode(v, &p); err != nil {
		return nil, fmt.Errorf("decode page %s: %w", id, err)
	}
	return &p, nil
}

// putPage writes p, indexes it under its incident and moves its timer in
// the due index.
func putPage(tx *bbolt.Tx, p *bot.Page) error {
	if p.ID == uuid.Nil {
		p.ID = bot.NewID()
	}
	// Of the stored page, only its timer matters here.
	var prev *indexed
	if v := tx.Bucket(bucketPages).Get(p.ID[:]); v != nil {
		prev = new(indexed)
		if err := store.Decode(v, prev); err != nil {
			return fmt.Errorf("decode page %s: %w", p.ID, err)
		}
	}
	data, err := store.Encode(p)
	if err != nil {
		return err
	}
	// An index row that would be written as it is stays untouched: a
	// bbolt put of the same key and value still rewrites its page, and
	// most writes of a page change neither its timer nor its incident. An
	// active page with a next step has one row in the due index (only
	// putPage writes pages and rows).
	var was, will []byte
	if prev != nil && prev.Status == bot.PageTriggered && !prev.NextAt.IsZero() {
		was = timeKey(prev.NextAt, p.ID[:])
	}
	if p.Active() && !p.NextAt.IsZero() {
		will = timeKey(p.NextAt, p.ID[:])
	}
	if due := tx.Bucket(bucketDue); !bytes.Equal(was, will) {
		if was != nil {
			if err := due.Delete(was); err != nil {
				return err
			}
		}
		if will != nil {
			if err := due.Put(will, nil); err != nil {
				return err
			}
		}
	}
	ip, k := tx.Bucket(bucketIncidentPages), append(append([]byte(nil), p.IncidentID[:]...), p.ID[:]...)
	if found, _ := ip.Cursor().Seek(k); !bytes.Equal(found, k) {
		if err := ip.Put(k, nil); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketPages).Put(p.ID[:], data)
}

// indexed is what the indexes need of a stored page.
type indexed struct {
	Status bot.PageStatus `json:"status"`
	NextAt time.Time      `json:"next_at"`
}

func deliveryKey(pageID uuid.UUID, key string) []byte {
	return append(append(make([]byte, 0, 16+len(key)), pageID[:]...), key...)
}

func getDelivery(tx *bbolt.Tx, pageID uuid.UUID, key string) (*bot.Delivery, error) {
	v := tx.Bucket(bucketDeliveries).Get(deliveryKey(pageID, key))
	if v == nil {
		return nil, nil
	}
	var d bot.Delivery
	if err := store.Decode(v, &d); err != nil {
		return nil, fmt.Errorf("decode delivery %s: %w", key, err)
	}
	return &d, nil
}

// pageDeliveries reads the page's deliveries whose keys start with prefix.
func pageDeliveries(tx *bbolt.Tx, pageID uuid.UUID, prefix string) ([]bot.Delivery, error) {
	var out []bot.Delivery
	c, from := tx.Bucket(bucketDeliveries).Cursor(), deliveryKey(pageID, prefix)
	for k, v := c.Seek(from); k != nil && bytes.HasPrefix(k, from); k, v = c.Next() {
		var d bot.Delivery
		if err := store.Decode(v, &d); err != nil {
			return nil, fmt.Errorf("decode delivery %s: %w", k[16:], err)
		}
		out = append(out, d)
	}
	return out, nil
}

// putDelivery writes d under its page and keeps the counts by status in
// step. Its page must exist.
func putDelivery(tx *bbolt.Tx, d *bot.Delivery) error {
	if tx.Bucket(bucketPages).Get(d.PageID[:]) == nil {
		return notFound("That page")
	}
	b, k := tx.Bucket(bucketDeliveries), deliveryKey(d.PageID, d.Key)
	change := map[bot.DeliveryStatus]int64{d.Status: 1}
	if v := b.Get(k); v != nil {
		var prev struct {
			Status bot.DeliveryStatus `json:"status"`
		}
		if err := store.Decode(v, &prev); err != nil {
			return fmt.Errorf("decode delivery %s: %w", d.Key, err)
		}
		change[prev.Status]--
	}
	data, err := store.Encode(d)
	if err != nil {
		return err
	}
	if err := b.Put(k, data); err != nil {
		return err
	}
	return countDeliveries(tx, change)
}

// countDeliveries adds change to the delivery counts by status.
func countDeliveries(tx *bbolt.Tx, change map[bot.DeliveryStatus]int64) error {
	b := tx.Bucket(bucketDeliveryCounts)
	for st, n := range change {
		if n == 0 {
			continue
		}
		var cur int64
		if v := b.Get([]byte(st)); len(v) == 8 {
			cur = int64(binary.BigEndian.Uint64(v))
		}
		if cur += n; cur <= 0 {
			if err := b.Delete([]byte(st)); err != nil {
				return err
			}
			continue
		}
		if err := b.Put([]byte(st), binary.BigEndian.AppendUint64(nil, uint64(cur))); err != nil {
			return err
		}
	}
	return nil
}

// incidentPages reads an incident's pages through the incident → page
// index, oldest first.
func incidentPages(tx *bbolt.Tx, incidentID uuid.UUID) ([]*bot.Page, error) {
	var out []*bot.Page
	c := tx.Bucket(bucketIncidentPages).Cursor()
	for k, _ := c.Seek(incidentID[:]); k != nil && bytes.HasPrefix(k, incidentID[:]); k, _ = c.Next() {
		id, err := uuid.FromBytes(k[16:])
		if err != nil {
			return nil, err
		}
		p, err := getPage(tx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	// Page ids are random: order by creation.
	slices.SortStableFunc(out, func(a, b *bot.Page) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// Page implements bot.PageStore.
func (s pageReads) Page(ctx context.Context, id uuid.UUID) (*bot.Page, error) {
	var p *bot.Page
	err := s.db.View(func(tx *bbolt.Tx) (err error) { p, err = getPage(tx, id); return err })
	return p, err
}

// PagesForIncident implements bot.PageStore.
func (s pageReads) PagesForIncident(ctx context.Context, incidentID uuid.UUID) ([]*bot.Page, error) {
	var out []*bot.Page
	err := s.db.View(func(tx *bbolt.Tx) (err error) { out, err = incidentPages(tx, incidentID); return err })
	return out, err
}

// PageDeliveries implements bot.PageStore.
func (s pageReads) PageDeliveries(ctx context.Context, pageID uuid.UUID) ([]bot.Delivery, error) {
	var out []bot.Delivery
	err := s.db.View(func(tx *bbolt.Tx) (err error) { out, err = pageDeliveries(tx, pageID, ""); return err })
	return out, err
}

// DuePages implements bot.PageStore.
func (s pageReads) DuePages(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	var out []uuid.UUID
	err := s.db.View(func(tx *bbolt.Tx) error {
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

func refKey(p bot.Platform, ref bot.MessageRef) []byte {
	return []byte(string(p) + "|" + ref.Channel + "|" + ref.ID)
}

// PageByRef implements bot.PageStore.
func (s pageReads) PageByRef(ctx context.Context, p bot.Platform, ref bot.MessageRef) (uuid.UUID, bool, error) {
	var id uuid.UUID
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketPageRefs).Get(refKey(p, ref)); len(v) == 16 {
			copy(id[:], v)
			ok = true
		}
		return nil
	})
	return id, ok, err
}
