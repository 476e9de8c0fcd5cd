package pg

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ store.Dumper = (*Store)(nil)

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
		// each runs query and hands each row to scan, which emits.
		each := func(query string, scan func(pgx.Rows) error) error {
			rows, err := tx.Query(ctx, query)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := scan(rows); err != nil {
					return err
				}
			}
			return rows.Err()
		}
		// bodies emits the JSON bodies of query, re-encoded by their type.
		bodies := func(kind, query string, newT func() any) error {
			return each(query, func(rows pgx.Rows) error {
				var raw []byte
				if err := rows.Scan(&raw); err != nil {
					return err
				}
				v := newT()
				if err := json.Unmarshal(raw, v); err != nil {
					return fmt.Errorf("decode %s: %w", kind, err)
				}
				return emit(kind, v)
			})
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
		steps := []func() error{
			func() error {
				return bodies(store.KindIncident, `SELECT body FROM incidents ORDER BY id`, func() any { return &bot.Incident{} })
			},
			func() error {
				return bodies(store.KindEvent, `SELECT body FROM events ORDER BY incident_id, seq`, func() any { return &bot.Event{} })
			},
			func() error {
				return each(`SELECT source_id, incident_id, seq, at FROM seen ORDER BY source_id`, func(rows pgx.Rows) error {
					var sn store.Seen
					var at int64
					if err := rows.Scan(&sn.SourceID, &sn.IncidentID, &sn.Seq, &at); err != nil {
						return err
					}
					sn.At = fromNanos(at)
					return emit(store.KindSeen, sn)
				})
			},
			func() error {
				return bodies(store.KindPage, `SELECT body FROM pages ORDER BY id`, func() any { return &bot.Page{} })
			},
			func() error {
				return each(`SELECT ref, page_id FROM page_refs ORDER BY ref`, func(rows pgx.Rows) error {
					var pr store.PageRef
					if err := rows.Scan(&pr.Ref, &pr.PageID); err != nil {
						return err
					}
					return emit(store.KindPageRef, pr)
				})
			},
			func() error {
				return each(`SELECT incident_id, kind, at FROM reminders ORDER BY incident_id, kind`, func(rows pgx.Rows) error {
					var r bot.Reminder
					var at int64
					if err := rows.Scan(&r.IncidentID, &r.Kind, &at); err != nil {
						return err
					}
					r.At = fromNanos(at)
					return emit(store.KindReminder, r)
				})
			},
			func() error {
				return bodies(store.KindFollowUp, `SELECT body FROM followups ORDER BY number`, func() any { return &bot.FollowUp{} })
			},
			func() error {
				return each(`SELECT incident_id, markdown FROM postmortems ORDER BY incident_id`, func(rows pgx.Rows) error {
					var pm store.Postmortem
					if err := rows.Scan(&pm.IncidentID, &pm.Markdown); err != nil {
						return err
					}
					return emit(store.KindPostmortem, pm)
				})
			},
			func() error {
				return each(`SELECT key, incident_id FROM alert_keys ORDER BY key`, func(rows pgx.Rows) error {
					var ak store.AlertKey
					if err := rows.Scan(&ak.Key, &ak.IncidentID); err != nil {
						return err
					}
					return emit(store.KindAlertKey, ak)
				})
			},
			func() error {
				return bodies(store.KindOnCall, `SELECT body FROM oncall_changes ORDER BY id`, func() any { return &bot.OnCallChange{} })
			},
			func() error {
				return each(`SELECT key, at FROM cursors ORDER BY key`, func(rows pgx.Rows) error {
					var c store.Cursor
					var at int64
					if err := rows.Scan(&c.Key, &at); err != nil {
						return err
					}
					c.At = fromNanos(at)
					return emit(store.KindCursor, c)
				})
			},
			func() error {
				return bodies(store.KindHeartbeat, `SELECT body FROM heartbeats ORDER BY name`, func() any { return &bot.HeartbeatState{} })
			},
			func() error {
				return each(`SELECT name, ref FROM named ORDER BY name`, func(rows pgx.Rows) error {
					var n store.Named
					var raw []byte
					if err := rows.Scan(&n.Name, &raw); err != nil {
						return err
					}
					if err := json.Unmarshal(raw, &n.Ref); err != nil {
						return err
					}
					return emit(store.KindNamed, n)
				})
			},
			func() error {
				return each(`SELECT j.body, w.key IS NOT NULL FROM jobs j LEFT JOIN jobs_wanted w ON w.key = j.key ORDER BY j.key`, func(rows pgx.Rows) error {
					var jr store.JobRecord
					var raw []byte
					if err := rows.Scan(&raw, &jr.Wanted); err != nil {
						return err
					}
					if err := json.Unmarshal(raw, &jr.Job); err != nil {
						return err
					}
					return emit(store.KindJob, jr)
				})
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
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
		queues := map[string]bool{}
		for _, r := range records {
			if err := t.load(r, queues); err != nil {
				return fmt.Errorf("%s: %w", r.Kind, err)
			}
		}
		for q := range queues {
			if err := t.head(q); err != nil {
				return err
			}
		}
		return nil
	})
}

func (t txn) load(r store.Record, queues map[string]bool) error {
	exec := func(sql string, args ...any) error { _, err := t.tx.Exec(t.ctx, sql, args...); return err }
	switch r.Kind {
	case store.KindCounter:
		var c store.Counter
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return err
		}
		return exec(`INSERT INTO counters (name, n) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET n = excluded.n`, c.Name, c.N)
	case store.KindIncident:
		var inc bot.Incident
		if err := json.Unmarshal(r.Value, &inc); err != nil {
			return err
		}
		return exec(`INSERT INTO incidents (id, number, platform, channel, active, body) VALUES ($1, $2, $3, $4, $5, $6)`,
			inc.ID, inc.Number, string(inc.Platform), inc.Channel.ID, inc.Status.Active(), r.Value)
	case store.KindEvent:
		var ev bot.Event
		if err := json.Unmarshal(r.Value, &ev); err != nil {
			return err
		}
		if err := exec(`INSERT INTO events (incident_id, seq, body) VALUES ($1, $2, $3)`, ev.IncidentID, int64(ev.Seq), r.Value); err != nil {
			return err
		}
		return exec(`UPDATE incidents SET last_seq = greatest(last_seq, $2) WHERE id = $1`, ev.IncidentID, int64(ev.Seq))
	case store.KindSeen:
		var sn store.Seen
		if err := json.Unmarshal(r.Value, &sn); err != nil {
			return err
		}
		return exec(`INSERT INTO seen (source_id, incident_id, seq, at) VALUES ($1, $2, $3, $4)`, sn.SourceID, sn.IncidentID, int64(sn.Seq), sn.At.UnixNano())
	case store.KindPage:
		var p bot.Page
		if err := json.Unmarshal(r.Value, &p); err != nil {
			return err
		}
		return t.PutPage(&p)
	case store.KindPageRef:
		var pr store.PageRef
		if err := json.Unmarshal(r.Value, &pr); err != nil {
			return err
		}
		return exec(`INSERT INTO page_refs (ref, page_id) VALUES ($1, $2)`, pr.Ref, pr.PageID)
	case store.KindReminder:
		var rm bot.Reminder
		if err := json.Unmarshal(r.Value, &rm); err != nil {
			return err
		}
		return t.SetReminder(rm)
	case store.KindFollowUp:
		var f bot.FollowUp
		if err := json.Unmarshal(r.Value, &f); err != nil {
			return err
		}
		return exec(`INSERT INTO followups (number, body) VALUES ($1, $2)`, f.Number, r.Value)
	case store.KindPostmortem:
		var pm store.Postmortem
		if err := json.Unmarshal(r.Value, &pm); err != nil {
			return err
		}
		return t.PutPostmortem(pm.IncidentID, pm.Markdown)
	case store.KindAlertKey:
		var ak store.AlertKey
		if err := json.Unmarshal(r.Value, &ak); err != nil {
			return err
		}
		return t.SetAlertIncident(ak.Key, ak.IncidentID)
	case store.KindOnCall:
		var c bot.OnCallChange
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return err
		}
		return t.AddOnCallChange(&c)
	case store.KindCursor:
		var c store.Cursor
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return err
		}
		return t.SetCursor(c.Key, c.At)
	case store.KindHeartbeat:
		var hb bot.HeartbeatState
		if err := json.Unmarshal(r.Value, &hb); err != nil {
			return err
		}
		return exec(`INSERT INTO heartbeats (name, due, body) VALUES ($1, $2, $3)`, hb.Name, hb.Due.UnixNano(), r.Value)
	case store.KindNamed:
		var n store.Named
		if err := json.Unmarshal(r.Value, &n); err != nil {
			return err
		}
		return t.NameMessage(n.Name, n.Ref)
	case store.KindJob:
		var jr store.JobRecord
		if err := json.Unmarshal(r.Value, &jr); err != nil {
			return err
		}
		j := jr.Job
		if err := t.putJob(&j); err != nil {
			return err
		}
		if j.Status == bot.JobPending && j.Coalesces() {
			if err := exec(`INSERT INTO jobs_coalesce (ckey, key) VALUES ($1, $2)`, coalesceKey(j), j.Key); err != nil {
				return err
			}
		}
		if jr.Wanted {
			if err := exec(`INSERT INTO jobs_wanted (key) VALUES ($1)`, j.Key); err != nil {
				return err
			}
		}
		queues[j.Queue] = true
		return nil
	}
	return fmt.Errorf("unknown record kind %q", r.Kind)
}
