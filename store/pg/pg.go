// Package pg keeps klaxon's state in PostgreSQL, for teams that run
// klaxon on a database they already operate. It behaves as the bbolt
// store does (the contract suite in store/storetest runs against both):
// every change is one transaction, committed before Update returns.
//
// Writes take one transaction-scoped advisory lock, so they are applied one
// at a time, in the order bbolt's single writer would, whichever replica
// makes them; reads never wait. De-duplication of platform events rests on
// a primary key (seen.source_id), not on a read before the write. Times are
// kept as Unix nanoseconds, as in bbolt, so they round-trip exactly.
package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// Advisory lock keys (pg_advisory_xact_lock): one for writes, one for
// migrations.
const (
	writeLock   = 0x6b6c61786f6e01 // "klaxon" 1
	migrateLock = 0x6b6c61786f6e02
)

// Store is klaxon's PostgreSQL-backed store.Backend: the operations on the
// database itself and one part per domain over the shared core (the pool
// and the committer). Every write goes through core.Update.
type Store struct {
	*core
	incidentReads  // incidents and their timelines (this file)
	jobReads       // the outbox (jobs.go)
	pageReads      // pages and reminders (rows.go)
	heartbeatReads // heartbeats (rows.go)
	recordReads    // follow-ups, postmortems, alert groups, on-call history, profiles, sessions, subscribers, API keys (rows.go)
}

// core is the connection pool and the committer, which every part shares.
type core struct {
	pool *pgxpool.Pool

	writes *store.Committer[bot.Tx] // see Update
	closed sync.Once
}

// The parts of a Store, each over the shared core.
type (
	incidentReads  struct{ *core }
	jobReads       struct{ *core }
	pageReads      struct{ *core }
	heartbeatReads struct{ *core }
	recordReads    struct{ *core }
)

// A write is one caller's function, run inside a shared transaction.
type write = store.Write[bot.Tx]

var _ store.Backend = (*Store)(nil)

// Open connects to dsn and brings the schema up to date (once, whichever
// replica gets there first). A database written by a newer klaxon is
// refused.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: store.postgres.dsn: %v", redact(err))
	}
	cfg.MaxConns = max(cfg.MaxConns, 8)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connecting to PostgreSQL: %v", redact(err))
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: PostgreSQL %s: %w", cfg.ConnConfig.Database, err)
	}
	c := &core{pool: pool}
	c.writes = store.NewCommitter(maxGroup, c.commit)
	s := &Store{core: c, incidentReads: incidentReads{c}, jobReads: jobReads{c}, pageReads: pageReads{c}, heartbeatReads: heartbeatReads{c}, recordReads: recordReads{c}}
	return s, nil
}

// redact keeps the password of a DSN out of an error: pgx's own parse
// errors name the DSN's parts but not its password; connection errors
// name host, user and database only.
func redact(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("cannot parse the DSN (postgres://user:password@host:5432/db?sslmode=require)")
	}
	return err
}

// Close waits for the write in progress, refuses new ones and closes the
// pool.
func (s *Store) Close() error {
	s.closed.Do(func() {
		s.writes.Close()
		s.pool.Close()
	})
	return nil
}

// Ready implements store.Backend: it commits a tiny write.
func (s *Store) Ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO meta (key, value) VALUES ('ready_probe', '\x01') ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
	if err != nil {
		return fmt.Errorf("the store does not take writes: %w", err)
	}
	return nil
}

// Check implements store.Backend: PostgreSQL keeps its own pages
// consistent; klaxon checks what it relies on across tables: every event
// and page belongs to an incident that exists, every delivery to a page,
// and each incident's event count matches its sequence.
func (s *Store) Check() error {
	ctx := context.Background()
	var orphans, gaps int
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = e.incident_id)) +
		(SELECT count(*) FROM pages p WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = p.incident_id)) +
		(SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM pages p WHERE p.id = d.page_id)),
		(SELECT count(*) FROM incidents i WHERE i.last_seq <> (SELECT count(*) FROM events e WHERE e.incident_id = i.id))`).Scan(&orphans, &gaps)
	if err != nil {
		return err
	}
	if orphans > 0 || gaps > 0 {
		return fmt.Errorf("store: %d rows belong to no incident, %d timelines have gaps", orphans, gaps)
	}
	return nil
}

// Backup implements store.Backend. A PostgreSQL database is backed up
// with PostgreSQL's own tools.
func (s *Store) Backup(io.Writer) (int64, error) {
	return 0, bot.Errorf(bot.EUNSUPPORTED, "klaxon's store is PostgreSQL: back it up with pg_dump or your provider's snapshots (klaxon export writes every incident and its timeline as JSON lines).")
}

// Update implements bot.Updater: fn's reads and writes commit together,
// or not at all, one write at a time.
//
// Writes are group-committed, as on bbolt (store.Committer): a lone
// writer commits at once in its own goroutine, and writers who arrive
// meanwhile share the next transaction (and its WAL flush) instead of
// queueing for the write lock one by one. If a function fails, its caller gets the error and the
// others run again without it, so fn must be safe to re-run.
func (s *core) Update(ctx context.Context, fn func(tx bot.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.writes.Do(fn)
}

// maxGroup bounds how many writes share one transaction.
const maxGroup = 256

// writeTimeout bounds one group's transaction: a database that does not
// answer fails the writes instead of holding them for ever.
const writeTimeout = 30 * time.Second

// commit runs group in one transaction (see store.CommitGroup), bounded
// by writeTimeout.
func (s *core) commit(group []write) {
	store.CommitGroup(group, func(run func(bot.Tx) error) error {
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		defer cancel()
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			return &store.WriteFailed{Index: -1, Err: err}
		}
		defer c.Release()
		// BEGIN, the write lock, the statements and COMMIT go in as few
		// round trips as the writes allow (pipe).
		p := &pipe{conn: c.Conn()}
		t := txn{ctx: ctx, tx: p, due: new(bool)}
		err = run(t)
		if p.err != nil {
			err = p.err // a deferred statement's failure names its write
		}
		if err == nil {
			err = p.commit(ctx, *t.due)
		}
		if err != nil && !p.rollback(ctx) {
			// The connection is in an unknown state: the pool drops it.
			_ = c.Conn().Close(context.WithoutCancel(ctx))
		}
		return err
	})
}

// dueChannel is the LISTEN/NOTIFY channel that says something may be due.
const dueChannel = "klaxon_due"

// Listen calls fn each time a transaction that queued jobs or moved a
// page's timer commits, on any replica, until ctx ends. It reconnects
// after a lost connection.
func (s *Store) Listen(ctx context.Context, fn func()) error {
	for ctx.Err() == nil {
		err := s.listen(ctx, fn)
		if ctx.Err() != nil {
			return nil
		}
		_ = err // the database went away: try again shortly; ticks cover the gap
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil
}

func (s *core) listen(ctx context.Context, fn func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN `+dueChannel); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `UNLISTEN `+dueChannel)
	fn() // anything committed while no one listened
	for {
		if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
			return err
		}
		fn()
	}
}

// write runs fn in a write transaction.
func (s *core) write(ctx context.Context, fn func(t txn) error) error {
	return s.Update(ctx, func(tx bot.Tx) error { return fn(tx.(txn)) })
}

// txn is one write transaction as bot.Tx sees it.
type txn struct {
	ctx context.Context
	tx  *pipe
	due *bool // something may be due when it commits: tell the leader
}

var _ bot.Tx = txn{}

// later runs sql with the transaction's next statement or its COMMIT
// (pipe.Defer), for a write whose result nothing reads and that fails
// only when the database refuses it: the outbox's bookkeeping and a
// delivery's outcome go in one round trip with what follows them.
func (t txn) later(sql string, args ...any) {
	t.tx.Defer(sql, args, func(row pgx.Row) error { return noRow(row.Scan()) })
}

// noRow is err, or nil when it only says the statement returned no row.
func noRow(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

// missing reports whether err is the database refusing a NULL in a NOT
// NULL column of table: a write that takes a value from a row (an
// incident's next sequence number, a page's id) whose row is not there.
func missing(err error, table string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23502" && pe.TableName == table
}

// Mark implements store.Marker for the pipe under the transaction.
func (t txn) Mark(i int) { t.tx.Mark(i) }

var _ store.Marker = txn{}

// querier is what reads need: the pool, or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func notFound(what string) error { return bot.Errorf(bot.ENOTFOUND, "%s does not exist.", what) }

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// one reads one JSON body into T, or notFound(what).
func one[T any](ctx context.Context, q querier, what, sql string, args ...any) (*T, error) {
	var raw []byte
	if err := q.QueryRow(ctx, sql, args...).Scan(&raw); errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(what)
	} else if err != nil {
		return nil, err
	}
	var v T
	if err := store.Decode(raw, &v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", what, err)
	}
	return &v, nil
}

// all reads every JSON body of a query into Ts.
func all[T any](ctx context.Context, q querier, what, sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var v T
		if err := store.Decode(raw, &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", what, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// next takes the next number of counter name (gapless: the row lock holds
// it until the transaction ends).
func next(t txn, name string) (int64, error) {
	var n int64
	err := t.tx.QueryRow(t.ctx, `INSERT INTO counters (name, n) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET n = counters.n + 1 RETURNING n`, name).Scan(&n)
	return n, err
}

// --- incidents and timelines ------------------------------------------------

const incidentSQL = `SELECT body FROM incidents WHERE id = $1`

func (t txn) Incident(id uuid.UUID) (*bot.Incident, error) {
	return one[bot.Incident](t.ctx, t.tx, "That incident", incidentSQL, id)
}

func (t txn) CreateIncident(inc *bot.Incident, events ...bot.Event) error {
	if inc.ID == uuid.Nil {
		inc.ID = bot.NewID()
	}
	n, err := next(t, "incident")
	if err != nil {
		return err
	}
	inc.Number = n
	body, err := store.Encode(inc)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO incidents (id, number, platform, channel, active, body) VALUES ($1, $2, $3, $4, $5, $6)`,
		inc.ID, inc.Number, string(inc.Platform), inc.Channel.ID, inc.Status.Active(), body)
	if err != nil {
		return err
	}
	return t.AppendEvents(inc.ID, events...)
}

func (t txn) PutIncident(inc *bot.Incident) error {
	var n int64
	if err := t.tx.QueryRow(t.ctx, `SELECT number FROM incidents WHERE id = $1`, inc.ID).Scan(&n); errors.Is(err, pgx.ErrNoRows) {
		return notFound("That incident")
	} else if err != nil {
		return err
	}
	inc.Number = n
	body, err := store.Encode(inc)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `UPDATE incidents SET platform = $2, channel = $3, active = $4, body = $5 WHERE id = $1`,
		inc.ID, string(inc.Platform), inc.Channel.ID, inc.Status.Active(), body)
	return err
}

func (t txn) AppendEvents(incidentID uuid.UUID, events ...bot.Event) error {
	for i := range events {
		events[i].IncidentID = incidentID
		if err := appendEvent(t, &events[i]); err != nil {
			return err
		}
	}
	return nil
}

// appendEvent writes ev unless its SourceID was recorded before, in one
// statement: the incident's sequence moves on, the event is written with
// its number and the source id is recorded. Writes are serialized (the
// write lock), and the seen table's primary key refuses a second record of
// one source id whatever happens.
func appendEvent(t txn, ev *bot.Event) error {
	if ev.IncidentID == uuid.Nil {
		return errors.New("store: event has no incident id")
	}
	if ev.ID == uuid.Nil {
		ev.ID = bot.NewID()
	}
	body, err := store.Encode(ev)
	if err != nil {
		return err
	}
	// Nothing in the transaction reads the append's result, so it waits
	// for the next statement or COMMIT and goes with it (pipe.Defer).
	t.tx.Defer(`
WITH d AS (SELECT $2 <> '' AND EXISTS (SELECT 1 FROM seen WHERE source_id = $2) AS dup),
i AS (
	UPDATE incidents SET last_seq = last_seq + 1
	WHERE id = $1 AND NOT (SELECT dup FROM d)
	RETURNING last_seq),
e AS (
	INSERT INTO events (incident_id, seq, body)
	SELECT $1, n, jsonb_set($3::jsonb, '{seq}', to_jsonb(n)) FROM (SELECT (SELECT last_seq FROM i) AS n) x
	WHERE NOT (SELECT dup FROM d)
	RETURNING seq),
s AS (
	INSERT INTO seen (source_id, incident_id, seq, at) SELECT $2, $1, seq, $4 FROM e WHERE $2 <> '')
SELECT (SELECT seq FROM e)`, []any{ev.IncidentID, ev.SourceID, body, nanos(ev.Time)}, func(row pgx.Row) error {
		// An append to a missing incident has no sequence number to
		// write, so the database refuses it (not_null_violation) and the
		// COMMIT sent with it rolls back.
		var seq *int64
		switch err := row.Scan(&seq); {
		case missing(err, "events"):
			return notFound("That incident")
		case err != nil:
			return err
		case seq != nil:
			ev.Seq = uint64(*seq)
		}
		return nil
	})
	return nil
}

// Incident implements bot.Store.
func (s incidentReads) Incident(ctx context.Context, id uuid.UUID) (*bot.Incident, error) {
	return one[bot.Incident](ctx, s.pool, "That incident", incidentSQL, id)
}

// IncidentByNumber implements bot.Store.
func (s incidentReads) IncidentByNumber(ctx context.Context, n int64) (*bot.Incident, error) {
	return one[bot.Incident](ctx, s.pool, fmt.Sprintf("INC-%d", n), `SELECT body FROM incidents WHERE number = $1`, n)
}

// IncidentByChannel implements bot.Store.
func (s incidentReads) IncidentByChannel(ctx context.Context, p bot.Platform, channelID string) (*bot.Incident, error) {
	return one[bot.Incident](ctx, s.pool, "An incident for this channel",
		`SELECT body FROM incidents WHERE platform = $1 AND channel = $2 AND channel <> '' ORDER BY number DESC LIMIT 1`, string(p), channelID)
}

// ListIncidents implements bot.Store.
func (s incidentReads) ListIncidents(ctx context.Context, f bot.IncidentFilter) ([]*bot.Incident, error) {
	limit := int64(f.Limit)
	if limit <= 0 {
		limit = 1 << 62
	}
	before := f.Before
	if before <= 0 {
		before = 1 << 62
	}
	incs, err := all[bot.Incident](ctx, s.pool, "incident",
		`SELECT body FROM incidents WHERE (active OR NOT $1) AND number < $2 AND ($4::bigint = 0 OR (body->>'declared_at')::timestamptz >= to_timestamp($4::bigint / 1e9))
		ORDER BY number DESC LIMIT $3`, f.ActiveOnly, before, limit, sinceNanos(f.DeclaredSince))
	out := make([]*bot.Incident, len(incs))
	for i := range incs {
		out[i] = &incs[i]
	}
	return out, err
}

// exists reports whether incident id exists, or notFound.
func exists(ctx context.Context, q querier, id uuid.UUID) error {
	var one int
	if err := q.QueryRow(ctx, `SELECT 1 FROM incidents WHERE id = $1`, id).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
		return notFound("That incident")
	} else if err != nil {
		return err
	}
	return nil
}

// Events implements bot.Store.
func (s incidentReads) Events(ctx context.Context, incidentID uuid.UUID, from uint64, limit int) ([]bot.Event, error) {
	if err := exists(ctx, s.pool, incidentID); err != nil {
		return nil, err
	}
	n := int64(limit)
	if n <= 0 {
		n = 1 << 62
	}
	return all[bot.Event](ctx, s.pool, "event", `SELECT body FROM events WHERE incident_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
		incidentID, int64(min(from, 1<<62)), n)
}

// CountEvents implements bot.Store.
func (s incidentReads) CountEvents(ctx context.Context, incidentID uuid.UUID) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT last_seq FROM incidents WHERE id = $1`, incidentID).Scan(&n); errors.Is(err, pgx.ErrNoRows) {
		return 0, notFound("That incident")
	} else if err != nil {
		return 0, err
	}
	return n, nil
}

// LastAbout implements bot.Store.
func (s incidentReads) LastAbout(ctx context.Context, incidentID uuid.UUID, ref bot.MessageRef, limit int, kinds ...bot.EventKind) (bot.Event, bool, error) {
	evs, err := all[bot.Event](ctx, s.pool, "event", `SELECT body FROM events WHERE incident_id = $1 ORDER BY seq DESC LIMIT $2`, incidentID, limit)
	if err != nil {
		return bot.Event{}, false, err
	}
	for _, ev := range evs {
		if ev.Ref == ref && slices.Contains(kinds, ev.Kind) {
			return ev, true, nil
		}
	}
	return bot.Event{}, false, nil
}

// EachEvent implements bot.TimelineReader: rows stream from the server,
// so the timeline is never all in memory.
func (s incidentReads) EachEvent(ctx context.Context, incidentID uuid.UUID, fn func(bot.Event) error) error {
	return s.eachEvent(ctx, incidentID, fn)
}

// EachEventBrief implements bot.TimelineReader.
func (s incidentReads) EachEventBrief(ctx context.Context, incidentID uuid.UUID, fn func(bot.Event) error) error {
	return s.eachEvent(ctx, incidentID, func(ev bot.Event) error {
		return fn(bot.Event{IncidentID: ev.IncidentID, Seq: ev.Seq, Kind: ev.Kind, Actor: ev.Actor, Time: ev.Time, Text: ev.Text, Highlight: ev.Highlight})
	})
}

func (s *core) eachEvent(ctx context.Context, incidentID uuid.UUID, fn func(bot.Event) error) error {
	if err := exists(ctx, s.pool, incidentID); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT body FROM events WHERE incident_id = $1 ORDER BY seq`, incidentID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return err
		}
		var ev bot.Event
		if err := store.Decode(raw, &ev); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		if err := fn(ev); err != nil {
			return err
		}
	}
	return rows.Err()
}

// PruneSeen implements store.Backend.
func (s *Store) PruneSeen(before time.Time) (int, error) {
	var n int
	err := s.write(context.Background(), func(t txn) error {
		tag, err := t.tx.Exec(t.ctx, `DELETE FROM seen WHERE at < $1`, before.UnixNano())
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

// Export implements store.Backend: every incident, oldest first, each
// followed by its timeline, as JSON lines, from one snapshot.
func (s *Store) Export(w io.Writer) (incidents, events int, err error) {
	ctx := context.Background()
	enc := json.NewEncoder(w)
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		incs, err := all[bot.Incident](ctx, tx, "incident", `SELECT body FROM incidents ORDER BY number`)
		if err != nil {
			return err
		}
		for i := range incs {
			if err := enc.Encode(store.ExportRecord{Type: "incident", Incident: &incs[i]}); err != nil {
				return err
			}
			incidents++
			evs, err := all[bot.Event](ctx, tx, "event", `SELECT body FROM events WHERE incident_id = $1 ORDER BY seq`, incs[i].ID)
			if err != nil {
				return err
			}
			for j := range evs {
				if err := enc.Encode(store.ExportRecord{Type: "event", Event: &evs[j]}); err != nil {
					return err
				}
				events++
			}
		}
		return nil
	})
	return incidents, events, err
}

// Counts implements store.Backend.
func (s *Store) Counts(ctx context.Context) (store.Counts, error) {
	c := store.Counts{Deliveries: map[bot.DeliveryStatus]int{}, Incidents: map[store.IncidentClass]int{}}
	classes, err := s.pool.Query(ctx, `SELECT body->>'status', body->'severity'->>'name', count(*) FROM incidents GROUP BY 1, 2`)
	if err != nil {
		return c, err
	}
	for classes.Next() {
		var k store.IncidentClass
		var n int
		if err := classes.Scan(&k.Status, &k.Severity, &n); err != nil {
			classes.Close()
			return c, err
		}
		c.Incidents[k] = n
	}
	if classes.Close(); classes.Err() != nil {
		return c, classes.Err()
	}
	var total int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(last_seq), 0), (SELECT count(*) FROM jobs_due) FROM incidents`).Scan(&total, &c.OutboxDue); err != nil {
		return c, err
	}
	c.TimelineEvents = uint64(total)
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM deliveries GROUP BY 1`)
	if err != nil {
		return c, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return c, err
		}
		c.Deliveries[bot.DeliveryStatus(st)] = n
	}
	return c, rows.Err()
}

// sinceNanos is t in Unix nanoseconds, 0 for the zero time.
func sinceNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
