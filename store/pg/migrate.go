package pg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/klaxon-bot/klaxon/bot"
)

// migrations is the schema history: version N is the state after
// migrations[N-1] ran. Never edit or reorder a released one; append.
// A migration is SQL, and, when SQL alone cannot compute what it adds,
// fill, run after it in the same transaction.
type migration struct {
	name, sql string
	fill      func(context.Context, pgx.Tx) error
}

var migrations = []migration{
	{name: "create tables", sql: `
CREATE TABLE meta (key text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE counters (name text PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE incidents (
	id uuid PRIMARY KEY,
	number bigint NOT NULL UNIQUE,
	platform text NOT NULL,
	channel text NOT NULL,
	active boolean NOT NULL,
	last_seq bigint NOT NULL DEFAULT 0,
	body jsonb NOT NULL);
CREATE INDEX incidents_channel ON incidents (platform, channel) WHERE channel <> '';
CREATE TABLE events (incident_id uuid NOT NULL, seq bigint NOT NULL, body jsonb NOT NULL, PRIMARY KEY (incident_id, seq));
CREATE TABLE seen (source_id text PRIMARY KEY, incident_id uuid NOT NULL, seq bigint NOT NULL, at bigint NOT NULL);
CREATE INDEX seen_at ON seen (at);
CREATE TABLE oncall_changes (id uuid PRIMARY KEY, body jsonb NOT NULL);
CREATE TABLE cursors (key text PRIMARY KEY, at bigint NOT NULL);
CREATE TABLE pages (id uuid PRIMARY KEY, incident_id uuid NOT NULL, created bigint NOT NULL, next_at bigint, body jsonb NOT NULL);
CREATE INDEX pages_incident ON pages (incident_id);
CREATE INDEX pages_due ON pages (next_at) WHERE next_at IS NOT NULL;
CREATE TABLE page_refs (ref text PRIMARY KEY, page_id uuid NOT NULL);
CREATE TABLE reminders (incident_id uuid NOT NULL, kind text NOT NULL, at bigint NOT NULL, PRIMARY KEY (incident_id, kind));
CREATE INDEX reminders_due ON reminders (at);
CREATE TABLE followups (number bigint PRIMARY KEY, body jsonb NOT NULL);
CREATE TABLE postmortems (incident_id uuid PRIMARY KEY, markdown bytea NOT NULL);
CREATE TABLE alert_keys (key text PRIMARY KEY, incident_id uuid NOT NULL);
CREATE TABLE heartbeats (name text PRIMARY KEY, due bigint NOT NULL, body jsonb NOT NULL);
CREATE INDEX heartbeats_due ON heartbeats (due);
CREATE TABLE named (name text PRIMARY KEY, ref jsonb NOT NULL);
CREATE TABLE jobs (key text PRIMARY KEY, queue text NOT NULL, status text NOT NULL, destination text NOT NULL, body jsonb NOT NULL);
CREATE INDEX jobs_queue ON jobs (queue, key);
CREATE TABLE jobs_due (queue text PRIMARY KEY, key text NOT NULL UNIQUE, priority int NOT NULL, next_attempt bigint NOT NULL, destination text NOT NULL);
CREATE INDEX jobs_due_next ON jobs_due (priority, next_attempt, key);
CREATE TABLE jobs_coalesce (ckey text PRIMARY KEY, key text NOT NULL);
CREATE TABLE jobs_wanted (key text PRIMARY KEY);
`},
	{name: "leader lease", sql: `
CREATE TABLE leases (name text PRIMARY KEY, holder text NOT NULL, expires bigint NOT NULL, term bigint NOT NULL);
`},
	{name: "profiles", sql: `
CREATE TABLE profiles (person text PRIMARY KEY, body jsonb NOT NULL);
`},
	{name: "sessions", sql: `
CREATE TABLE sessions (id text PRIMARY KEY, person text NOT NULL, body jsonb NOT NULL);
`},
	{name: "postmortem versions", sql: `
CREATE TABLE postmortem_versions (incident_id uuid NOT NULL, n int NOT NULL, body jsonb NOT NULL, PRIMARY KEY (incident_id, n));
`},
	{name: "status page subscribers", sql: `
CREATE TABLE subscribers (id text PRIMARY KEY, body jsonb NOT NULL);
`},
	{name: "idempotency keys", sql: `
CREATE TABLE idempotency (key text PRIMARY KEY, created bigint NOT NULL, body jsonb NOT NULL);
CREATE INDEX idempotency_created ON idempotency (created);
`},
	// Incidents keep their public updates (for the status page) on their
	// record; older ones get them from their timeline, once.
	{name: "public updates on incidents", sql: `
UPDATE incidents i SET body = i.body || u.updates
FROM (SELECT e.incident_id, jsonb_build_object('public_updates', jsonb_agg(jsonb_build_object('time', e.body->'time',
		'text', CASE WHEN e.body->>'text' LIKE 'posted a public update (status page): %' THEN substr(e.body->>'text', 39) ELSE e.body->>'text' END) ORDER BY e.seq)) AS updates
	FROM events e WHERE e.body->>'kind' = 'update' AND e.body->'meta'->>'public' = 'true' GROUP BY e.incident_id) u
WHERE u.incident_id = i.id;
`},
	// A pipelined append (store/pg/pipe.go) goes in the same round trip as
	// its COMMIT: an append to a missing incident must fail in the
	// database, so that COMMIT rolls the transaction back, not in Go once
	// the transaction has committed.
	{name: "appends fail in the database", sql: `
CREATE OR REPLACE FUNCTION klaxon_require_incident(incident uuid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM incidents WHERE id = incident) THEN
		RAISE EXCEPTION 'no incident %', incident USING ERRCODE = 'no_data_found';
	END IF;
	RETURN true;
END $$;
`},
	// Appends now fail on their own NOT NULL sequence number when the
	// incident is missing (store/pg/pg.go, appendEvent): no function call.
	{name: "appends check without a function", sql: `
DROP FUNCTION klaxon_require_incident(uuid);
`},
	// A page's deliveries move out of its body into rows of their own, so
	// recording one's outcome no longer rewrites a body that grows with
	// everyone the page reached.
	{name: "deliveries of their own", sql: `
CREATE TABLE IF NOT EXISTS deliveries (page_id uuid NOT NULL, key text NOT NULL, status text NOT NULL, body jsonb NOT NULL, PRIMARY KEY (page_id, key));
INSERT INTO deliveries (page_id, key, status, body)
	SELECT p.id, d->>'key', d->>'status', d FROM pages p, jsonb_array_elements(p.body->'deliveries') d
	ON CONFLICT DO NOTHING;
UPDATE pages SET body = body - 'deliveries' WHERE body ? 'deliveries';
`},
	// A job keeps the fields its queue's due row is made of, so that a
	// finished job's successor becomes due in a statement sent with the
	// next one (head), instead of a read and a round trip of its own. The
	// columns keep no default: an older klaxon still running, which does
	// not write them, has its job refused rather than queued with no time.
	{name: "jobs keep their due fields", sql: `
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS priority int NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS next_attempt bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ALTER COLUMN priority DROP DEFAULT, ALTER COLUMN next_attempt DROP DEFAULT;
`, fill: fillDueFields},
}

// fillDueFields writes each job's priority and next attempt (nanoseconds,
// exactly as the due row compares them) into their columns.
func fillDueFields(ctx context.Context, tx pgx.Tx) error {
	jobs, err := all[bot.Job](ctx, tx, "job", `SELECT body FROM jobs`)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if _, err := tx.Exec(ctx, `UPDATE jobs SET priority = $2, next_attempt = $3 WHERE key = $1`, j.Key, int(j.Priority()), j.NextAttempt.UnixNano()); err != nil {
			return err
		}
	}
	return nil
}

// migrate brings the schema up to date in one transaction, holding an
// advisory lock so replicas starting together migrate once. A schema
// newer than this klaxon's is refused.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS klaxon_schema (version int NOT NULL)`); err != nil {
			return err
		}
		var version int
		err := tx.QueryRow(ctx, `SELECT version FROM klaxon_schema`).Scan(&version)
		if err == pgx.ErrNoRows {
			if _, err := tx.Exec(ctx, `INSERT INTO klaxon_schema (version) VALUES (0)`); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if version > len(migrations) {
			return fmt.Errorf("the database has schema version %d, newer than this klaxon's %d: it was written by a newer klaxon. Run that version, or restore a backup", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			m := migrations[i]
			_, err := tx.Exec(ctx, m.sql)
			if err == nil && m.fill != nil {
				err = m.fill(ctx, tx)
			}
			if err != nil {
				return fmt.Errorf("migration %d (%s): %w", i+1, m.name, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE klaxon_schema SET version = $1`, len(migrations))
		return err
	})
}
