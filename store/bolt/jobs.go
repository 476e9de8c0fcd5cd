package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ bot.JobStore = (*Store)(nil)

func coalesceKey(j bot.Job) []byte { return []byte(j.Queue + "|" + string(j.Op)) }

// Enqueue implements bot.Tx. A job's key is its queue and a sequence, so
// a queue's jobs sort in the order they were written; only the first
// pending job of a queue is in the due index.
func (t txn) Enqueue(jobs ...bot.Job) error {
	b := t.tx.Bucket(bucketJobs)
	for _, j := range jobs {
		if j.Queue == "" {
			return fmt.Errorf("store: job %s has no queue", j.Op)
		}
		if j.Coalesces() {
			if key := t.tx.Bucket(bucketJobsCoalesce).Get(coalesceKey(j)); key != nil {
				// One is pending: it renders the latest state when it runs.
				// Should it be running now, it runs once more.
				if err := markWanted(t.tx, key); err != nil {
					return err
				}
				continue
			}
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		j.Key = j.Queue + "/" + fmt.Sprintf("%016x", seq)
		j.Status = bot.JobPending
		if err := putJob(t.tx, &j); err != nil {
			return err
		}
		if j.Coalesces() {
			if err := t.tx.Bucket(bucketJobsCoalesce).Put(coalesceKey(j), []byte(j.Key)); err != nil {
				return err
			}
		}
		if head, ok := firstPendingKey(t.tx, j.Queue); ok && string(head) == j.Key {
			if err := t.tx.Bucket(bucketJobsDue).Put(dueKey(&j), []byte(j.Destination())); err != nil {
				return err
			}
		}
	}
	return nil
}

// CancelJobs implements bot.Tx. Cancelled jobs leave the outbox; what
// they were for records that they were cancelled.
func (t txn) CancelJobs(queue string) error {
	var keys []*bot.Job
	err := eachWithPrefix(t.tx.Bucket(bucketJobs), []byte(queue+"/"), "job", func(j bot.Job) bool {
		if j.Status == bot.JobPending {
			keys = append(keys, &j)
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, j := range keys {
		if err := t.tx.Bucket(bucketJobsDue).Delete(dueKey(j)); err != nil {
			return err
		}
		if err := t.tx.Bucket(bucketJobs).Delete([]byte(j.Key)); err != nil {
			return err
		}
		if err := t.tx.Bucket(bucketJobsCreating).Delete([]byte(j.Key)); err != nil {
			return err
		}
		if j.Coalesces() {
			// The next one like it is enqueued, not folded into this one.
			if err := t.tx.Bucket(bucketJobsCoalesce).Delete(coalesceKey(*j)); err != nil {
				return err
			}
		}
	}
	return nil
}

// dueKey is a job's row in the due index: its priority, then its next
// attempt, then its key, so the most urgent kind of job is read first.
// The row's value is the job's destination, so a reader can pass over the
// jobs it cannot start now without decoding them.
func dueKey(j *bot.Job) []byte {
	return append([]byte{byte(j.Priority())}, timeKey(j.NextAttempt, []byte(j.Key))...)
}

// priorities lists the due index's prefixes, most urgent first.
var priorities = []bot.JobPriority{bot.PriorityPage, bot.PriorityHook, bot.PriorityChat, bot.PriorityBulk}

// wanted marks a coalescing job that was asked for again while pending.
var keyWanted = []byte("wanted:")

func markWanted(tx *bbolt.Tx, key []byte) error {
	b, k := tx.Bucket(bucketJobsCoalesce), append(append([]byte(nil), keyWanted...), key...)
	if b.Get(k) != nil {
		return nil // marked already: a put would rewrite the page for nothing
	}
	return b.Put(k, []byte{1})
}

func putJob(tx *bbolt.Tx, j *bot.Job) error {
	data, err := store.Encode(j)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketJobs).Put([]byte(j.Key), data)
}

func getJob(tx *bbolt.Tx, key []byte) (*bot.Job, error) {
	v := tx.Bucket(bucketJobs).Get(key)
	if v == nil {
		return nil, notFound("That job")
	}
	var j bot.Job
	if err := store.Decode(v, &j); err != nil {
		return nil, fmt.Errorf("decode job %s: %w", key, err)
	}
	return &j, nil
}

// firstPending returns the first pending job of queue.
func firstPending(tx *bbolt.Tx, queue string) (*bot.Job, bool) {
	key, ok := firstPendingKey(tx, queue)
	if !ok {
		return nil, false
	}
	j, err := getJob(tx, key)
	return j, err == nil
}

// firstPendingKey returns the key of queue's first pending job. It reads
// only each job's status: done jobs leave the bucket, so it passes over
// failed ones only, but a job can be large (a summary's message).
func firstPendingKey(tx *bbolt.Tx, queue string) ([]byte, bool) {
	prefix := []byte(queue + "/")
	c := tx.Bucket(bucketJobs).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var j struct {
			Status bot.JobStatus `json:"status"`
		}
		if store.Decode(v, &j) == nil && j.Status == bot.JobPending {
			return k, true
		}
	}
	return nil, false
}

// eachWithPrefix decodes the values of bucket whose keys start with prefix,
// in key order, into T and calls fn until it returns false.
func eachWithPrefix[T any](b *bbolt.Bucket, prefix []byte, what string, fn func(T) bool) error {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var x T
		if err := store.Decode(v, &x); err != nil {
			return fmt.Errorf("decode %s %s: %w", what, k, err)
		}
		if !fn(x) {
			return nil
		}
	}
	return nil
}

// DueJobs implements bot.JobStore.
func (s jobReads) DueJobs(ctx context.Context, now time.Time, limit int, want func(key, destination []byte) bool) ([]bot.Job, error) {
	var out []bot.Job
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, p := range priorities {
			prefix := []byte{byte(p)}
			end := binary.BigEndian.AppendUint64(bytes.Clone(prefix), uint64(now.UnixNano()))
			c := tx.Bucket(bucketJobsDue).Cursor()
			n := 0
			for k, v := c.Seek(prefix); k != nil && k[0] == byte(p) && bytes.Compare(k[:len(end)], end) <= 0 && (limit <= 0 || n < limit); k, v = c.Next() {
				key := k[len(end):]
				if want != nil && !want(key, v) {
					continue
				}
				j, err := getJob(tx, key)
				if err != nil {
					return err
				}
				out = append(out, *j)
				n++
			}
		}
		return nil
	})
	return out, err
}

// RetryNow implements bot.JobStore. It reads first and writes only when
// something waits, as usually nothing does.
func (s jobReads) RetryNow(ctx context.Context, destination string, now time.Time) (int, error) {
	waiting := func(tx *bbolt.Tx) ([]*bot.Job, error) {
		var out []*bot.Job
		for _, p := range priorities {
			c := tx.Bucket(bucketJobsDue).Cursor()
			from := binary.BigEndian.AppendUint64([]byte{byte(p)}, uint64(now.UnixNano()+1))
			for k, v := c.Seek(from); k != nil && k[0] == byte(p); k, v = c.Next() {
				if string(v) != destination {
					continue
				}
				j, err := getJob(tx, k[9:])
				if err != nil {
					return nil, err
				}
				if j.Destination() == destination && j.Attempts > 0 && !j.RateLimited {
					out = append(out, j)
				}
			}
		}
		return out, nil
	}
	var found []*bot.Job
	if err := s.db.View(func(tx *bbolt.Tx) (err error) { found, err = waiting(tx); return err }); err != nil || len(found) == 0 {
		return 0, err
	}
	n := 0
	err := s.update(func(tx *bbolt.Tx) error {
		jobs, err := waiting(tx)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if err := tx.Bucket(bucketJobsDue).Delete(dueKey(j)); err != nil {
				return err
			}
			j.NextAttempt = now
			if err := putJob(tx, j); err != nil {
				return err
			}
			if err := tx.Bucket(bucketJobsDue).Put(dueKey(j), []byte(j.Destination())); err != nil {
				return err
			}
		}
		n = len(jobs)
		return nil
	})
	return n, err
}

// FinishJob implements bot.JobStore.
func (s jobReads) FinishJob(ctx context.Context, j bot.Job, then func(tx bot.Tx) error) error {
	return s.update(func(tx *bbolt.Tx) error {
		prev, err := getJob(tx, []byte(j.Key))
		if bot.ErrorCode(err) == bot.ENOTFOUND {
			// Cancelled while it ran: only a success is worth recording
			// (it got through after all).
			if j.Status != bot.JobDone || then == nil {
				return nil
			}
			return then(txn{tx})
		}
		if err != nil {
			return err
		}
		due := tx.Bucket(bucketJobsDue)
		if prev.Status == bot.JobPending {
			if err := due.Delete(dueKey(prev)); err != nil {
				return err
			}
		}
		cur := j
		// A coalescing job asked for again while it ran renders once more.
		wanted := append(append([]byte(nil), keyWanted...), j.Key...)
		co := tx.Bucket(bucketJobsCoalesce)
		if cur.Status == bot.JobDone && co.Get(wanted) != nil {
			cur.Status, cur.NextAttempt = bot.JobPending, j.Done
		}
		if err := co.Delete(wanted); err != nil {
			return err
		}
		if cur.Status != bot.JobPending && prev.Coalesces() {
			if err := co.Delete(coalesceKey(*prev)); err != nil {
				return err
			}
		}
		// Its outcome is recorded: it is no longer in flight.
		if err := tx.Bucket(bucketJobsCreating).Delete([]byte(j.Key)); err != nil {
			return err
		}
		if cur.Status == bot.JobDone {
			// Done jobs leave the outbox: what they made is on the incident.
			if err := tx.Bucket(bucketJobs).Delete([]byte(j.Key)); err != nil {
				return err
			}
		} else if err := putJob(tx, &cur); err != nil {
			return err
		}
		if then != nil {
			if err := then(txn{tx}); err != nil {
				return err
			}
		}
		// The queue's first pending job, this one or the next, is due.
		if head, ok := firstPending(tx, j.Queue); ok {
			return due.Put(dueKey(head), []byte(head.Destination()))
		}
		return nil
	})
}

// StillDue implements bot.JobStore: a key lookup, no decoding.
func (s jobReads) StillDue(ctx context.Context, j bot.Job) (bool, error) {
	var due bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		due = tx.Bucket(bucketJobsDue).Get(dueKey(&j)) != nil
		return nil
	})
	return due, err
}

// PendingJobs implements bot.JobStore.
func (s jobReads) PendingJobs(ctx context.Context, incidentID uuid.UUID) ([]bot.Job, error) {
	var out []bot.Job
	prefix := []byte(incidentID.String() + "/")
	err := s.db.View(func(tx *bbolt.Tx) error {
		return eachWithPrefix(tx.Bucket(bucketJobs), prefix, "job", func(j bot.Job) bool { out = append(out, j); return true })
	})
	return out, err
}

// CountJobs implements bot.JobStore.
func (s jobReads) CountJobs(ctx context.Context) (bot.JobCounts, error) {
	out := bot.JobCounts{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			var j bot.Job
			if err := store.Decode(v, &j); err != nil {
				return fmt.Errorf("decode job %s: %w", k, err)
			}
			d := j.Destination()
			if out[d] == nil {
				out[d] = map[bot.JobStatus]int{}
			}
			out[d][j.Status]++
			return nil
		})
	})
	return out, err
}

// MarkStarted implements bot.JobStore. A channel creation is also kept in
// jobs_creating, a bucket as small as the creations in flight, so the
// question every activity in an unknown channel asks reads only that.
func (s jobReads) MarkStarted(ctx context.Context, key string, at time.Time) error {
	return s.update(func(tx *bbolt.Tx) error {
		j, err := getJob(tx, []byte(key))
		if err != nil {
			return err
		}
		j.Started = at
		if j.Op == bot.OpCreateChannel {
			if err := tx.Bucket(bucketJobsCreating).Put([]byte(key), creatingValue(j)); err != nil {
				return err
			}
		}
		return putJob(tx, j)
	})
}

// creatingValue is a creation's row in jobs_creating: when it started,
// then its platform.
func creatingValue(j *bot.Job) []byte {
	return append(u64(uint64(j.Started.UnixNano())), j.Platform...)
}

// CreatingChannels implements bot.JobStore.
func (s jobReads) CreatingChannels(ctx context.Context, p bot.Platform, since time.Time) (bool, error) {
	found := false
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketJobsCreating).ForEach(func(_, v []byte) error {
			if len(v) >= 8 && bot.Platform(v[8:]) == p && int64(binary.BigEndian.Uint64(v)) > since.UnixNano() {
				found = true
			}
			return nil
		})
	})
	return found, err
}
