package pg

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// --- pages -------------------------------------------------------------------

func (t txn) Page(id uuid.UUID) (*bot.Page, error) {
	return one[bot.Page](t.ctx, t.tx, "That page", `SELECT body FROM pages WHERE id = $1`, id)
}

func (t txn) Pages(incidentID uuid.UUID) ([]*bot.Page, error) {
	return pagesFor(t.ctx, t.tx, incidentID)
}

func pagesFor(ctx context.Context, q querier, incidentID uuid.UUID) ([]*bot.Page, error) {
	ps, err := all[bot.Page](ctx, q, "page", `SELECT body FROM pages WHERE incident_id = $1 ORDER BY created, id`, incidentID)
	out := make([]*bot.Page, len(ps))
	for i := range ps {
		out[i] = &ps[i]
	}
	return out, err
}

// PutPage writes p and moves its timer: next_at is set only while the
// page is active and has a next step.
func (t txn) PutPage(p *bot.Page) error {
	if p.ID == uuid.Nil {
		p.ID = bot.NewID()
	}
	body, err := store.Encode(p)
	if err != nil {
		return err
	}
	var next *int64
	if p.Active() && !p.NextAt.IsZero() {
		n := p.NextAt.UnixNano()
		next = &n
		*t.due = true
	}
	t.later(`INSERT INTO pages (id, incident_id, created, next_at, body) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET next_at = excluded.next_at, body = excluded.body`, p.ID, p.IncidentID, nanos(p.Created), next, body)
	return nil
}

func (t txn) Delivery(pageID uuid.UUID, key string) (*bot.Delivery, error) {
	d, err := one[bot.Delivery](t.ctx, t.tx, "That delivery", `SELECT body FROM deliveries WHERE page_id = $1 AND key = $2`, pageID, key)
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		return nil, nil
	}
	return d, err
}

func (t txn) Deliveries(pageID uuid.UUID, prefix string) ([]bot.Delivery, error) {
	return deliveriesOf(t.ctx, t.tx, pageID, prefix)
}

// deliveriesOf reads the page's deliveries whose keys start with prefix,
// in the byte order of their keys (as bbolt keeps them).
func deliveriesOf(ctx context.Context, q querier, pageID uuid.UUID, prefix string) ([]bot.Delivery, error) {
	return all[bot.Delivery](ctx, q, "delivery", `SELECT body FROM deliveries WHERE page_id = $1 AND starts_with(key, $2) ORDER BY key COLLATE "C"`, pageID, prefix)
}

// PutDelivery writes d under its page, which must exist, with the
// transaction's next statement (txn.later). A missing page leaves page_id
// without a value, which the database refuses (not_null_violation), so
// the COMMIT that may go with it rolls back.
func (t txn) PutDelivery(d *bot.Delivery) error {
	body, err := store.Encode(d)
	if err != nil {
		return err
	}
	t.tx.Defer(`INSERT INTO deliveries (page_id, key, status, body) VALUES ((SELECT id FROM pages WHERE id = $1), $2, $3, $4)
		ON CONFLICT (page_id, key) DO UPDATE SET status = excluded.status, body = excluded.body`, []any{d.PageID, d.Key, string(d.Status), body},
		func(row pgx.Row) error {
			err := noRow(row.Scan())
			if missing(err, "deliveries") {
				return notFound("That page")
			}
			return err
		})
	return nil
}

func refKey(p bot.Platform, ref bot.MessageRef) string {
	return string(p) + "|" + ref.Channel + "|" + ref.ID
}

func (t txn) LinkPage(p bot.Platform, ref bot.MessageRef, pageID uuid.UUID) error {
	t.later(`INSERT INTO page_refs (ref, page_id) VALUES ($1, $2) ON CONFLICT (ref) DO UPDATE SET page_id = excluded.page_id`,
		refKey(p, ref), pageID)
	return nil
}

// Page implements bot.PageStore.
func (s pageReads) Page(ctx context.Context, id uuid.UUID) (*bot.Page, error) {
	return one[bot.Page](ctx, s.pool, "That page", `SELECT body FROM pages WHERE id = $1`, id)
}

// PagesForIncident implements bot.PageStore.
func (s pageReads) PagesForIncident(ctx context.Context, incidentID uuid.UUID) ([]*bot.Page, error) {
	return pagesFor(ctx, s.pool, incidentID)
}

// PageDeliveries implements bot.PageStore.
func (s pageReads) PageDeliveries(ctx context.Context, pageID uuid.UUID) ([]bot.Delivery, error) {
	return deliveriesOf(ctx, s.pool, pageID, "")
}

// DuePages implements bot.PageStore.
func (s pageReads) DuePages(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	return ids(ctx, s.pool, `SELECT id FROM pages WHERE next_at <= $1 ORDER BY next_at, id`, now.UnixNano())
}

func ids(ctx context.Context, q querier, sql string, args ...any) ([]uuid.UUID, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// PageByRef implements bot.PageStore.
func (s pageReads) PageByRef(ctx context.Context, p bot.Platform, ref bot.MessageRef) (uuid.UUID, bool, error) {
	var id uuid.UUID
	err := s.pool.QueryRow(ctx, `SELECT page_id FROM page_refs WHERE ref = $1`, refKey(p, ref)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	return id, err == nil, err
}

// --- reminders ------------------------------------------------------------

func (t txn) SetReminder(r bot.Reminder) error {
	if r.At.IsZero() {
		_, err := t.tx.Exec(t.ctx, `DELETE FROM reminders WHERE incident_id = $1 AND kind = $2`, r.IncidentID, r.Kind)
		return err
	}
	_, err := t.tx.Exec(t.ctx, `INSERT INTO reminders (incident_id, kind, at) VALUES ($1, $2, $3)
		ON CONFLICT (incident_id, kind) DO UPDATE SET at = excluded.at`, r.IncidentID, r.Kind, r.At.UnixNano())
	return err
}

// DueReminders implements bot.ReminderStore.
func (s pageReads) DueReminders(ctx context.Context, now time.Time) ([]bot.Reminder, error) {
	rows, err := s.pool.Query(ctx, `SELECT incident_id, kind, at FROM reminders WHERE at <= $1 ORDER BY at, incident_id, kind`, now.UnixNano())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (bot.Reminder, error) {
		var r bot.Reminder
		var at int64
		err := row.Scan(&r.IncidentID, &r.Kind, &at)
		r.At = fromNanos(at)
		return r, err
	})
}

// --- follow-ups, postmortems, alert groups ---------------------------------

func (t txn) AddFollowUp(f *bot.FollowUp, ev bot.Event) error {
	if f.ID == uuid.Nil {
		f.ID = bot.NewID()
	}
	n, err := next(t, "followup")
	if err != nil {
		return err
	}
	f.Number = n
	body, err := store.Encode(f)
	if err != nil {
		return err
	}
	if _, err := t.tx.Exec(t.ctx, `INSERT INTO followups (number, body) VALUES ($1, $2)`, n, body); err != nil {
		return err
	}
	ev.IncidentID = f.IncidentID
	return appendEvent(t, &ev)
}

func (t txn) FollowUp(n int64) (*bot.FollowUp, error) {
	return one[bot.FollowUp](t.ctx, t.tx, fmt.Sprintf("F-%d", n), `SELECT body FROM followups WHERE number = $1`, n)
}

func (t txn) PutFollowUp(f *bot.FollowUp) error {
	body, err := store.Encode(f)
	if err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE followups SET body = $2 WHERE number = $1`, f.Number, body)
	if err == nil && tag.RowsAffected() == 0 {
		return notFound(f.Key())
	}
	return err
}

// FollowUp implements bot.FollowUpStore.
func (s recordReads) FollowUp(ctx context.Context, n int64) (*bot.FollowUp, error) {
	return one[bot.FollowUp](ctx, s.pool, fmt.Sprintf("F-%d", n), `SELECT body FROM followups WHERE number = $1`, n)
}

// FollowUps implements bot.FollowUpStore.
func (s recordReads) FollowUps(ctx context.Context) ([]*bot.FollowUp, error) {
	fs, err := all[bot.FollowUp](ctx, s.pool, "follow-up", `SELECT body FROM followups ORDER BY number`)
	out := make([]*bot.FollowUp, len(fs))
	for i := range fs {
		out[i] = &fs[i]
	}
	return out, err
}

func (t txn) PutPostmortem(incidentID uuid.UUID, markdown []byte) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO postmortems (incident_id, markdown) VALUES ($1, $2)
		ON CONFLICT (incident_id) DO UPDATE SET markdown = excluded.markdown`, incidentID, markdown)
	return err
}

// Postmortem implements bot.PostmortemStore.
func (s recordReads) Postmortem(ctx context.Context, incidentID uuid.UUID) ([]byte, error) {
	var md []byte
	err := s.pool.QueryRow(ctx, `SELECT markdown FROM postmortems WHERE incident_id = $1`, incidentID).Scan(&md)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("A postmortem for that incident")
	}
	return md, err
}

func (t txn) SetAlertIncident(key string, incidentID uuid.UUID) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO alert_keys (key, incident_id) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET incident_id = excluded.incident_id`, key, incidentID)
	return err
}

// AlertIncident implements bot.Tx.
func (t txn) AlertIncident(key string) (uuid.UUID, bool, error) {
	return alertIncident(t.ctx, t.tx, key)
}

func alertIncident(ctx context.Context, q querier, key string) (uuid.UUID, bool, error) {
	var id uuid.UUID
	err := q.QueryRow(ctx, `SELECT incident_id FROM alert_keys WHERE key = $1`, key).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, false, nil
	}
	return id, err == nil, err
}

// AlertIncident implements bot.AlertStore.
func (s recordReads) AlertIncident(ctx context.Context, key string) (uuid.UUID, bool, error) {
	return alertIncident(ctx, s.pool, key)
}

// --- on-call history and cursors --------------------------------------------

// AddOnCallChange implements bot.Tx. It never replaces an entry.
func (t txn) AddOnCallChange(c *bot.OnCallChange) error {
	if c.ID == uuid.Nil {
		c.ID = bot.NewID()
	}
	body, err := store.Encode(c)
	if err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, `INSERT INTO oncall_changes (id, body) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, c.ID, body)
	if err == nil && tag.RowsAffected() == 0 {
		return fmt.Errorf("store: on-call change %s exists already", c.ID)
	}
	return err
}

// OnCallChanges implements bot.OnCallStore: the history, oldest first
// (change ids are UUIDv7, which sort by time as bytes and as uuids).
func (s recordReads) OnCallChanges(ctx context.Context) ([]bot.OnCallChange, error) {
	return all[bot.OnCallChange](ctx, s.pool, "on-call change", `SELECT body FROM oncall_changes ORDER BY id`)
}

func (t txn) SetCursor(key string, at time.Time) error {
	_, err := t.tx.Exec(t.ctx, `INSERT INTO cursors (key, at) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET at = excluded.at`, key, at.UnixNano())
	return err
}

// Cursor implements bot.OnCallStore.
func (s recordReads) Cursor(ctx context.Context, key string) (time.Time, bool, error) {
	var at int64
	err := s.pool.QueryRow(ctx, `SELECT at FROM cursors WHERE key = $1`, key).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	return fromNanos(at), err == nil, err
}

// --- heartbeats -------------------------------------------------------------

// Heartbeat implements bot.HeartbeatStore.
func (s heartbeatReads) Heartbeat(ctx context.Context, name string) (bot.HeartbeatState, bool, error) {
	hb, err := one[bot.HeartbeatState](ctx, s.pool, "heartbeat", `SELECT body FROM heartbeats WHERE name = $1`, name)
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		return bot.HeartbeatState{}, false, nil
	}
	if err != nil {
		return bot.HeartbeatState{}, false, err
	}
	return *hb, true, nil
}

// PutHeartbeat implements bot.HeartbeatStore.
func (s heartbeatReads) PutHeartbeat(ctx context.Context, hb bot.HeartbeatState) error {
	body, err := store.Encode(hb)
	if err != nil {
		return err
	}
	return s.write(ctx, func(t txn) error {
		_, err := t.tx.Exec(t.ctx, `INSERT INTO heartbeats (name, due, body) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET due = excluded.due, body = excluded.body`, hb.Name, hb.Due.UnixNano(), body)
		return err
	})
}

// DueHeartbeats implements bot.HeartbeatStore.
func (s heartbeatReads) DueHeartbeats(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT name FROM heartbeats WHERE due <= $1 ORDER BY due, name`, now.UnixNano())
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// --- named messages ---------------------------------------------------------

func (t txn) NameMessage(name string, ref bot.MessageRef) error {
	body, err := store.Encode(ref)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO named (name, ref) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET ref = excluded.ref`, name, body)
	return err
}

// Named implements bot.JobStore.
func (s recordReads) Named(ctx context.Context, name string) (bot.MessageRef, bool, error) {
	ref, err := one[bot.MessageRef](ctx, s.pool, "named message", `SELECT ref FROM named WHERE name = $1`, name)
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		return bot.MessageRef{}, false, nil
	}
	if err != nil {
		return bot.MessageRef{}, false, err
	}
	return *ref, true, nil
}

// Profile implements bot.Tx.
func (t txn) Profile(person string) (*bot.Profile, error) {
	p, err := one[bot.Profile](t.ctx, t.tx, "profile", `SELECT body FROM profiles WHERE person = $1`, person)
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		return &bot.Profile{Person: person}, nil
	}
	return p, err
}

// PutProfile implements bot.Tx.
func (t txn) PutProfile(p *bot.Profile) error {
	body, err := store.Encode(p)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO profiles (person, body) VALUES ($1, $2) ON CONFLICT (person) DO UPDATE SET body = excluded.body`, p.Person, body)
	return err
}

// Profiles implements bot.ProfileStore.
func (s recordReads) Profiles(ctx context.Context) ([]*bot.Profile, error) {
	rows, err := s.pool.Query(ctx, `SELECT body FROM profiles ORDER BY person`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*bot.Profile
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var p bot.Profile
		if err := store.Decode(raw, &p); err != nil {
			return nil, fmt.Errorf("decode profile: %w", err)
		}
		out = append(out, &p)
	}
	return out, rows.Err()
}

// PutSession implements bot.Tx.
func (t txn) PutSession(s *bot.Session) error {
	body, err := store.Encode(s)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO sessions (id, person, body) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET body = excluded.body`, s.ID, s.Person, body)
	return err
}

// DeleteSession implements bot.Tx.
func (t txn) DeleteSession(id string) error {
	_, err := t.tx.Exec(t.ctx, `DELETE FROM sessions WHERE id = $1`, id)
	return err
}

// Session implements bot.SessionStore.
func (s recordReads) Session(ctx context.Context, id string) (*bot.Session, error) {
	return one[bot.Session](ctx, s.pool, "That session", `SELECT body FROM sessions WHERE id = $1`, id)
}

// LatestPostmortemVersion implements bot.Tx.
func (t txn) LatestPostmortemVersion(incidentID uuid.UUID) (*bot.PostmortemVersion, bool, error) {
	v, err := one[bot.PostmortemVersion](t.ctx, t.tx, "postmortem version", `SELECT body FROM postmortem_versions WHERE incident_id = $1 ORDER BY n DESC LIMIT 1`, incidentID)
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		return nil, false, nil
	}
	return v, err == nil, err
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
	if err := insertVersion(t, *v); err != nil {
		return err
	}
	return t.PutPostmortem(v.IncidentID, []byte(v.Markdown))
}

func insertVersion(t txn, v bot.PostmortemVersion) error {
	body, err := store.Encode(v)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO postmortem_versions (incident_id, n, body) VALUES ($1, $2, $3)`, v.IncidentID, v.N, body)
	return err
}

// PostmortemVersions implements bot.PostmortemStore.
func (s recordReads) PostmortemVersions(ctx context.Context, incidentID uuid.UUID) ([]bot.PostmortemVersion, error) {
	rows, err := s.pool.Query(ctx, `SELECT body FROM postmortem_versions WHERE incident_id = $1 ORDER BY n`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bot.PostmortemVersion
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var v bot.PostmortemVersion
		if err := store.Decode(raw, &v); err != nil {
			return nil, fmt.Errorf("decode postmortem version: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Subscribers implements bot.Tx.
func (t txn) Subscribers(after string, limit int) ([]*bot.Subscriber, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	rows, err := t.tx.Query(t.ctx, `SELECT body FROM subscribers WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*bot.Subscriber
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var s bot.Subscriber
		if err := store.Decode(raw, &s); err != nil {
			return nil, fmt.Errorf("decode subscriber: %w", err)
		}
		out = append(out, &s)
	}
	return out, rows.Err()
}

// PutSubscriber implements bot.Tx.
func (t txn) PutSubscriber(s *bot.Subscriber) error {
	body, err := store.Encode(s)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO subscribers (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body`, s.ID, body)
	return err
}

// DeleteSubscriber implements bot.Tx.
func (t txn) DeleteSubscriber(id string) error {
	_, err := t.tx.Exec(t.ctx, `DELETE FROM subscribers WHERE id = $1`, id)
	return err
}

// CountSubscribers implements bot.SubscriberStore.
func (s recordReads) CountSubscribers(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM subscribers`).Scan(&n)
	return n, err
}

// Idempotency implements bot.Tx.
func (t txn) Idempotency(key string) (*bot.IdempotencyRecord, error) {
	r, err := one[bot.IdempotencyRecord](t.ctx, t.tx, "idempotency key", `SELECT body FROM idempotency WHERE key = $1`, key)
	if bot.ErrorCode(err) == bot.ENOTFOUND {
		return nil, nil
	}
	return r, err
}

// PutIdempotency implements bot.Tx.
func (t txn) PutIdempotency(r *bot.IdempotencyRecord) error {
	body, err := store.Encode(r)
	if err != nil {
		return err
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO idempotency (key, created, body) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET created = excluded.created, body = excluded.body`, r.Key, r.Created.UnixNano(), body)
	return err
}

// DeleteIdempotency implements bot.Tx.
func (t txn) DeleteIdempotency(key string) error {
	_, err := t.tx.Exec(t.ctx, `DELETE FROM idempotency WHERE key = $1`, key)
	return err
}

// PruneIdempotency implements bot.IdempotencyStore.
func (s recordReads) PruneIdempotency(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency WHERE created < $1`, before.UnixNano())
	return int(tag.RowsAffected()), err
}
