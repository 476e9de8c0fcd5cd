package pg

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ store.Dumper = (*Store)(nil)

// table is one table's rows as records of one kind: the query, and how a
// row becomes the record's value.
type table struct {
	kind  string
	query string
	scan  func(pgx.Rows) (any, error)
}

// body reads a row's one column, a JSON body, as a T.
func body[T any]() func(pgx.Rows) (any, error) {
	return func(rows pgx.Rows) (any, error) {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		v := new(T)
		if err := store.Decode(raw, v); err != nil {
			return nil, fmt.Errorf("decode %T: %w", v, err)
		}
		return v, nil
	}
}

// columns reads a row into a T with fn.
func columns[T any](fn func(rows pgx.Rows, v *T) error) func(pgx.Rows) (any, error) {
	return func(rows pgx.Rows) (any, error) {
		var v T
		err := fn(rows, &v)
		return v, err
	}
}

// nanosInto scans a unix-nanos column into *t.
type nanosInto struct{ t *time.Time }

func (n nanosInto) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("a time as unix nanoseconds is an integer, not %T", src)
	}
	*n.t = fromNanos(v)
	return nil
}

// jsonColumn scans a JSON column into v.
type jsonColumn struct{ v any }

func (j jsonColumn) Scan(src any) error {
	raw, ok := src.([]byte)
	if !ok {
		if s, isString := src.(string); isString {
			raw = []byte(s)
		} else {
			return fmt.Errorf("a JSON column holds bytes, not %T", src)
		}
	}
	return store.Decode(raw, j.v)
}

// dumped are the tables a dump reads, in load order (store.Kinds), after
// the counters.
var dumped = []table{
	{store.KindIncident, `SELECT body FROM incidents ORDER BY id`, body[bot.Incident]()},
	{store.KindEvent, `SELECT body FROM events ORDER BY incident_id, seq`, body[bot.Event]()},
	{store.KindSeen, `SELECT source_id, incident_id, seq, at FROM seen ORDER BY source_id`, columns(func(rows pgx.Rows, sn *store.Seen) error {
		return rows.Scan(&sn.SourceID, &sn.IncidentID, &sn.Seq, nanosInto{&sn.At})
	})},
	{store.KindPage, `SELECT body FROM pages ORDER BY id`, body[bot.Page]()},
	{store.KindDelivery, `SELECT body FROM deliveries ORDER BY page_id, key`, body[bot.Delivery]()},
	{store.KindPageRef, `SELECT ref, page_id FROM page_refs ORDER BY ref`, columns(func(rows pgx.Rows, pr *store.PageRef) error {
		return rows.Scan(&pr.Ref, &pr.PageID)
	})},
	{store.KindReminder, `SELECT incident_id, kind, at FROM reminders ORDER BY incident_id, kind`, columns(func(rows pgx.Rows, r *bot.Reminder) error {
		return rows.Scan(&r.IncidentID, &r.Kind, nanosInto{&r.At})
	})},
	{store.KindFollowUp, `SELECT body FROM followups ORDER BY number`, body[bot.FollowUp]()},
	{store.KindPostmortem, `SELECT incident_id, markdown FROM postmortems ORDER BY incident_id`, columns(func(rows pgx.Rows, pm *store.Postmortem) error {
		return rows.Scan(&pm.IncidentID, &pm.Markdown)
	})},
	{store.KindAlertKey, `SELECT key, incident_id FROM alert_keys ORDER BY key`, columns(func(rows pgx.Rows, ak *store.AlertKey) error {
		return rows.Scan(&ak.Key, &ak.IncidentID)
	})},
	{store.KindOnCall, `SELECT body FROM oncall_changes ORDER BY id`, body[bot.OnCallChange]()},
	{store.KindCursor, `SELECT key, at FROM cursors ORDER BY key`, columns(func(rows pgx.Rows, c *store.Cursor) error {
		return rows.Scan(&c.Key, nanosInto{&c.At})
	})},
	{store.KindHeartbeat, `SELECT body FROM heartbeats ORDER BY name`, body[bot.HeartbeatState]()},
	{store.KindNamed, `SELECT name, ref FROM named ORDER BY name`, columns(func(rows pgx.Rows, n *store.Named) error {
		return rows.Scan(&n.Name, jsonColumn{&n.Ref})
	})},
	{store.KindProfile, `SELECT body FROM profiles ORDER BY person`, body[bot.Profile]()},
	{store.KindSubscriber, `SELECT body FROM subscribers ORDER BY id`, body[bot.Subscriber]()},
	{store.KindPostmortemVersion, `SELECT body FROM postmortem_versions ORDER BY incident_id, n`, body[bot.PostmortemVersion]()},
	{store.KindJob, `SELECT j.body, w.key IS NOT NULL FROM jobs j LEFT JOIN jobs_wanted w ON w.key = j.key ORDER BY j.key`, columns(func(rows pgx.Rows, jr *store.JobRecord) error {
		return rows.Scan(jsonColumn{&jr.Job}, &jr.Wanted)
	})},
}

// Dump implements store.Dumper, from one repeatable-read snapshot.
func (s *Store) Dump(ctx context.Context, fn func(store.Record) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		emit := func(kind string, v any) error {
			r, err := store.NewRecord(kind, v)
			if err != nil {
				return err
			}
			return fn(r)
		}
		for _, name := range []string{"incident", "followup", "job"} {
			var n int64
			if err := tx.QueryRow(ctx, `SELECT coalesce((SELECT n FROM counters WHERE name = $1), 0)`, name).Scan(&n); err != nil {
				return err
			}
			if err := emit(store.KindCounter, store.Counter{Name: name, N: n}); err != nil {
				return err
			}
		}
		for _, t := range dumped {
			if err := dumpTable(ctx, tx, t, emit); err != nil {
				return fmt.Errorf("dumping %s: %w", t.kind, err)
			}
		}
		return nil
	})
}

// dumpTable emits every row of t.
func dumpTable(ctx context.Context, tx pgx.Tx, t table, emit func(kind string, v any) error) error {
	rows, err := tx.Query(ctx, t.query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := t.scan(rows)
		if err != nil {
			return err
		}
		if err := emit(t.kind, v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Load implements store.Dumper: records go into an empty database in one
// transaction, with every index.
func (s *Store) Load(ctx context.Context, records []store.Record) error {
	return s.write(ctx, func(t txn) error {
		var n int
		if err := t.tx.QueryRow(t.ctx, `SELECT count(*) FROM incidents`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the destination is not empty")
		}
		l := loader{t, map[string]bool{}}
		for _, r := range records {
			if err := store.LoadRecord(l, r); err != nil {
				return fmt.Errorf("%s: %w", r.Kind, err)
			}
		}
		for q := range l.queues {
			head(t, q)
		}
		return nil
	})
}

// loader writes dump records into PostgreSQL; the kinds a bot.Tx method
// writes go through txn. It notes each job's queue, so Load can set the
// queues' heads once every job is in.
type loader struct {
	txn
	queues map[string]bool
}

var _ store.Loader = loader{}

func (l loader) exec(sql string, args ...any) error {
	_, err := l.tx.Exec(l.ctx, sql, args...)
	return err
}

func (l loader) LoadCounter(c store.Counter) error {
	return l.exec(`INSERT INTO counters (name, n) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET n = excluded.n`, c.Name, c.N)
}

func (l loader) LoadIncident(inc *bot.Incident, body []byte) error {
	return l.exec(`INSERT INTO incidents (id, number, platform, channel, active, body) VALUES ($1, $2, $3, $4, $5, $6)`,
		inc.ID, inc.Number, string(inc.Platform), inc.Channel.ID, inc.Status.Active(), body)
}

func (l loader) LoadEvent(ev *bot.Event, body []byte) error {
	if err := l.exec(`INSERT INTO events (incident_id, seq, body) VALUES ($1, $2, $3)`, ev.IncidentID, int64(ev.Seq), body); err != nil {
		return err
	}
	return l.exec(`UPDATE incidents SET last_seq = greatest(last_seq, $2) WHERE id = $1`, ev.IncidentID, int64(ev.Seq))
}

func (l loader) LoadSeen(sn store.Seen) error {
	return l.exec(`INSERT INTO seen (source_id, incident_id, seq, at) VALUES ($1, $2, $3, $4)`, sn.SourceID, sn.IncidentID, int64(sn.Seq), sn.At.UnixNano())
}

func (l loader) LoadPage(p *bot.Page) error { return l.PutPage(p) }

// LoadPostmortemVersion implements store.Loader.
func (l loader) LoadPostmortemVersion(v bot.PostmortemVersion) error { return insertVersion(l.txn, v) }

func (l loader) LoadPageRef(pr store.PageRef) error {
	return l.exec(`INSERT INTO page_refs (ref, page_id) VALUES ($1, $2)`, pr.Ref, pr.PageID)
}

func (l loader) LoadFollowUp(f *bot.FollowUp, body []byte) error {
	return l.exec(`INSERT INTO followups (number, body) VALUES ($1, $2)`, f.Number, body)
}

func (l loader) LoadHeartbeat(hb *bot.HeartbeatState, body []byte) error {
	return l.exec(`INSERT INTO heartbeats (name, due, body) VALUES ($1, $2, $3)`, hb.Name, hb.Due.UnixNano(), body)
}

func (l loader) LoadJob(jr store.JobRecord) error {
	j := jr.Job
	if err := putJob(l.txn, &j); err != nil {
		return err
	}
	if j.Status == bot.JobPending && j.Coalesces() {
		if err := l.exec(`INSERT INTO jobs_coalesce (ckey, key) VALUES ($1, $2)`, coalesceKey(j), j.Key); err != nil {
			return err
		}
	}
	if jr.Wanted {
		if err := l.exec(`INSERT INTO jobs_wanted (key) VALUES ($1)`, j.Key); err != nil {
			return err
		}
	}
	l.queues[j.Queue] = true
	return nil
}
