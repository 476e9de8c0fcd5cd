package pg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// The outbox, as in bbolt: jobs (key = queue/sequence, so a queue's jobs
// sort in the order they were written; with the fields a due row is made
// of), jobs_due (one row per queue: its first pending job, with the job's
// priority, next attempt and destination), jobs_coalesce (queue|op → the
// pending job that coalesces) and jobs_wanted (coalescing jobs asked for
// again while they ran).

var _ bot.JobStore = (*Store)(nil)

func coalesceKey(j bot.Job) string { return j.Queue + "|" + string(j.Op) }

func putJob(t txn, j *bot.Job) error {
	body, err := store.Encode(j)
	if err != nil {
		return err
	}
	t.later(`INSERT INTO jobs (key, queue, status, destination, priority, next_attempt, body) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (key) DO UPDATE SET status = excluded.status, destination = excluded.destination,
			priority = excluded.priority, next_attempt = excluded.next_attempt, body = excluded.body`,
		j.Key, j.Queue, string(j.Status), j.Destination(), int(j.Priority()), j.NextAttempt.UnixNano(), body)
	return nil
}

// head makes the queue's first pending job its due row, or removes the row
// when none is left, in one statement sent with the next (later): nothing
// in the transaction reads the row before it commits.
func head(t txn, queue string) {
	t.later(`WITH h AS (SELECT key, priority, next_attempt, destination FROM jobs WHERE queue = $1 AND status = 'pending' ORDER BY key LIMIT 1),
		none AS (DELETE FROM jobs_due WHERE queue = $1 AND NOT EXISTS (SELECT 1 FROM h))
		INSERT INTO jobs_due (queue, key, priority, next_attempt, destination) SELECT $1, key, priority, next_attempt, destination FROM h
		ON CONFLICT (queue) DO UPDATE SET key = excluded.key, priority = excluded.priority, next_attempt = excluded.next_attempt, destination = excluded.destination`,
		queue)
}

// enqueueSQL writes one job ($5, its body) in one statement. A coalescing
// job ($6, its coalescing key, is not empty) that finds one like it
// pending asks for that one again instead (jobs_wanted: should it be
// running now, it runs once more, and it renders the latest state).
// Otherwise the job takes the next number (counters) for its key, so a
// queue's jobs sort in the order they were written, and becomes its
// queue's due row unless an earlier job is.
const enqueueSQL = `
WITH p AS (SELECT key FROM jobs_coalesce WHERE ckey = $6 AND $6 <> ''),
w AS (INSERT INTO jobs_wanted (key) SELECT key FROM p ON CONFLICT DO NOTHING),
n AS (INSERT INTO counters (name, n) SELECT 'job', 1 WHERE NOT EXISTS (SELECT 1 FROM p)
	ON CONFLICT (name) DO UPDATE SET n = counters.n + 1 RETURNING n),
j AS (INSERT INTO jobs (key, queue, status, destination, priority, next_attempt, body)
	SELECT k, $1, 'pending', $2, $3, $4, jsonb_set($5::jsonb, '{key}', to_jsonb(k))
	FROM (SELECT $1 || '/' || lpad(to_hex(n), 16, '0') AS k FROM n) x
	RETURNING key),
c AS (INSERT INTO jobs_coalesce (ckey, key) SELECT $6, key FROM j WHERE $6 <> '')
INSERT INTO jobs_due (queue, key, priority, next_attempt, destination) SELECT $1, key, $3, $4, $2 FROM j
ON CONFLICT (queue) DO NOTHING`

// Enqueue implements bot.Tx. Nothing in the transaction reads what it
// writes before it commits, so each job goes with the next statement
// (later): enqueueing costs no round trip of its own.
func (t txn) Enqueue(jobs ...bot.Job) error {
	*t.due = *t.due || len(jobs) > 0
	for _, j := range jobs {
		if j.Queue == "" {
			return fmt.Errorf("store: job %s has no queue", j.Op)
		}
		j.Key, j.Status = "", bot.JobPending // the key is the database's to number
		body, err := store.Encode(j)
		if err != nil {
			return err
		}
		ckey := ""
		if j.Coalesces() {
			ckey = coalesceKey(j)
		}
		t.later(enqueueSQL, j.Queue, j.Destination(), int(j.Priority()), j.NextAttempt.UnixNano(), body, ckey)
	}
	return nil
}

// CancelJobs implements bot.Tx.
func (t txn) CancelJobs(queue string) error {
	for _, q := range []string{
		`DELETE FROM jobs_due WHERE queue = $1`,
		`DELETE FROM jobs_coalesce WHERE key IN (SELECT key FROM jobs WHERE queue = $1 AND status = 'pending')`,
		`DELETE FROM jobs WHERE queue = $1 AND status = 'pending'`,
	} {
		if _, err := t.tx.Exec(t.ctx, q, queue); err != nil {
			return err
		}
	}
	return nil
}

// DueJobs implements bot.JobStore. One statement reads the due rows with
// their jobs, so the answer is one moment's: two statements could see a
// queue's head in the first and find it finished in the second, and
// answer "nothing due" while its next job was.
func (s jobReads) DueJobs(ctx context.Context, now time.Time, limit int, want func(key, destination []byte) bool) ([]bot.Job, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.priority, d.key, d.destination, j.body FROM jobs_due d JOIN jobs j ON j.key = d.key
		WHERE d.next_attempt <= $1 ORDER BY d.priority, d.next_attempt, d.key`, now.UnixNano())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.Job
	taken := map[int]int{} // per priority, as limit counts
	for rows.Next() {
		var (
			priority  int
			key, dest []byte
			body      []byte
		)
		if err := rows.Scan(&priority, &key, &dest, &body); err != nil {
			return nil, err
		}
		if (limit > 0 && taken[priority] == limit) || (want != nil && !want(key, dest)) {
			continue
		}
		var j bot.Job
		if err := store.Decode(body, &j); err != nil {
			return nil, fmt.Errorf("decode job: %w", err)
		}
		out = append(out, j)
		taken[priority]++
	}
	return out, rows.Err()
}

// RetryNow implements bot.JobStore: jobs for destination that wait out a
// backoff after a failed attempt go now (not those waiting out a rate
// limit).
func (s jobReads) RetryNow(ctx context.Context, destination string, now time.Time) (int, error) {
	var waiting int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM jobs_due WHERE destination = $1 AND next_attempt > $2`, destination, now.UnixNano()).Scan(&waiting); err != nil || waiting == 0 {
		return 0, err
	}
	n := 0
	err := s.write(ctx, func(t txn) error {
		n = 0
		jobs, err := all[bot.Job](t.ctx, t.tx, "job", `SELECT j.body FROM jobs_due d JOIN jobs j ON j.key = d.key WHERE d.destination = $1 AND d.next_attempt > $2`,
			destination, now.UnixNano())
		if err != nil {
			return err
		}
		for _, j := range jobs {
			if j.Destination() != destination || j.Attempts == 0 || j.RateLimited {
				continue
			}
			j.NextAttempt = now
			if err := putJob(t, &j); err != nil {
				return err
			}
			if _, err := t.tx.Exec(t.ctx, `UPDATE jobs_due SET next_attempt = $2 WHERE key = $1`, j.Key, now.UnixNano()); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// FinishJob implements bot.JobStore.
func (s jobReads) FinishJob(ctx context.Context, j bot.Job, then func(tx bot.Tx) error) error {
	return s.write(ctx, func(t txn) error {
		// The row says the job is still queued; its queue and op, all a
		// coalescing job is known by, are j's.
		var wanted bool // asked for again while it ran (a coalescing job)
		err := t.tx.QueryRow(t.ctx, `SELECT EXISTS (SELECT 1 FROM jobs_wanted WHERE key = $1) FROM jobs WHERE key = $1`, j.Key).Scan(&wanted)
		if errors.Is(err, pgx.ErrNoRows) {
			// Cancelled while it ran: only a success is worth recording.
			if j.Status != bot.JobDone || then == nil {
				return nil
			}
			return then(t)
		}
		if err != nil {
			return err
		}
		t.later(`DELETE FROM jobs_due WHERE key = $1`, j.Key)
		cur := j
		// A coalescing job asked for again while it ran renders once more.
		if j.Coalesces() {
			if wanted {
				t.later(`DELETE FROM jobs_wanted WHERE key = $1`, j.Key)
				if cur.Status == bot.JobDone {
					cur.Status, cur.NextAttempt = bot.JobPending, j.Done
				}
			}
			if cur.Status != bot.JobPending {
				t.later(`DELETE FROM jobs_coalesce WHERE ckey = $1`, coalesceKey(j))
			}
		}
		if cur.Status == bot.JobDone {
			t.later(`DELETE FROM jobs WHERE key = $1`, j.Key)
		} else if err := putJob(t, &cur); err != nil {
			return err
		}
		if then != nil {
			if err := then(t); err != nil {
				return err
			}
		}
		// The queue's first pending job, this one or the next, is due.
		head(t, j.Queue)
		return nil
	})
}

// StillDue implements bot.JobStore.
func (s jobReads) StillDue(ctx context.Context, j bot.Job) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM jobs_due WHERE key = $1 AND next_attempt = $2 AND priority = $3`,
		j.Key, j.NextAttempt.UnixNano(), int(j.Priority())).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// PendingJobs implements bot.JobStore: an incident's jobs not done yet.
func (s jobReads) PendingJobs(ctx context.Context, incidentID uuid.UUID) ([]bot.Job, error) {
	return all[bot.Job](ctx, s.pool, "job", `SELECT body FROM jobs WHERE queue = $1 ORDER BY key`, incidentID.String())
}

// CountJobs implements bot.JobStore.
func (s jobReads) CountJobs(ctx context.Context) (bot.JobCounts, error) {
	rows, err := s.pool.Query(ctx, `SELECT destination, status, count(*) FROM jobs GROUP BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := bot.JobCounts{}
	for rows.Next() {
		var dest, status string
		var n int
		if err := rows.Scan(&dest, &status, &n); err != nil {
			return nil, err
		}
		if out[dest] == nil {
			out[dest] = map[bot.JobStatus]int{}
		}
		out[dest][bot.JobStatus(status)] = n
	}
	return out, rows.Err()
}

// MarkStarted implements bot.JobStore.
func (s jobReads) MarkStarted(ctx context.Context, key string, at time.Time) error {
	return s.write(ctx, func(t txn) error {
		j, err := one[bot.Job](t.ctx, t.tx, "That job", `SELECT body FROM jobs WHERE key = $1`, key)
		if err != nil {
			return err
		}
		j.Started = at
		return putJob(t, j)
	})
}

// CreatingChannels implements bot.JobStore.
func (s jobReads) CreatingChannels(ctx context.Context, p bot.Platform, since time.Time) (bool, error) {
	jobs, err := all[bot.Job](ctx, s.pool, "job", `SELECT body FROM jobs WHERE status = 'pending' AND body->>'op' = $1 AND body->>'platform' = $2`,
		string(bot.OpCreateChannel), string(p))
	for _, j := range jobs {
		if j.Started.After(since) {
			return true, err
		}
	}
	return false, err
}
