package pg

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lease is leadership among klaxon replicas on one database: a row naming
// its holder and when it expires, by the database's clock. The holder
// renews it well before it expires; another replica takes it only once it
// has expired. A row with an expiry, rather than a session advisory lock,
// because a leader must know when it has lost leadership: a session lock
// is held for as long as the server thinks the connection lives (minutes,
// on a half-open TCP connection), while a lease ends at a known time, so a
// leader that cannot renew stops acting before it ends and no two
// replicas act at once.
type Lease struct {
	pool   poolQuerier
	name   string
	holder string
	ttl    time.Duration
}

type poolQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Lease returns the lease name as seen by holder (a replica's id).
func (s *Store) Lease(name, holder string, ttl time.Duration) *Lease {
	return &Lease{pool: s.pool, name: name, holder: holder, ttl: ttl}
}

// TTL is how long a grant lasts.
func (l *Lease) TTL() time.Duration { return l.ttl }

// Try takes the lease if it is free or expired, or renews it if holder
// has it, and reports whether holder has it now, with its term (which
// grows each time the lease changes hands). The lease runs for TTL from
// when the database applied this call, which is after the caller started
// it: a caller that counts TTL from before its call ends its leadership
// no later than the database does.
func (l *Lease) Try(ctx context.Context) (held bool, term int64, err error) {
	var holder string
	err = l.pool.QueryRow(ctx, `
WITH now AS (SELECT (extract(epoch FROM clock_timestamp()) * 1e9)::bigint AS ns)
INSERT INTO leases (name, holder, expires, term) SELECT $1, $2, now.ns + $3, 1 FROM now
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires,
	term = leases.term + CASE WHEN leases.holder = excluded.holder THEN 0 ELSE 1 END
	WHERE leases.holder = excluded.holder OR leases.expires < (SELECT ns FROM now)
RETURNING holder, term`, l.name, l.holder, l.ttl.Nanoseconds()).Scan(&holder, &term)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, 0, nil // someone else holds it
	}
	if err != nil {
		return false, 0, err
	}
	return holder == l.holder, term, nil
}

// Release gives the lease up, if holder has it, so a standby takes over
// at once instead of waiting for it to expire.
func (l *Lease) Release(ctx context.Context) error {
	var n int
	err := l.pool.QueryRow(ctx, `WITH gone AS (UPDATE leases SET expires = 0 WHERE name = $1 AND holder = $2 RETURNING 1) SELECT count(*) FROM gone`,
		l.name, l.holder).Scan(&n)
	return err
}
