package pg

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/klaxon-bot/klaxon/store"
)

// pipe is one write transaction that sends its statements in as few round
// trips as it can, using pgx batches (PostgreSQL's pipeline mode):
//
//   - BEGIN and the write lock wait for the transaction's first statement
//     and go with it;
//   - a statement whose result the transaction does not need before it
//     commits (Defer: a timeline append) waits for the next statement, or
//     for COMMIT;
//   - COMMIT goes with whatever still waits.
//
// A transaction of appends alone is one round trip, as a bare INSERT is.
// A deferred statement that fails fails the write that deferred it
// (store.WriteFailed), not the one whose statement carried it.
type pipe struct {
	conn  *pgx.Conn
	begun bool
	queue []deferred
	owner int   // the write whose function runs now (store.Marker)
	err   error // the first failure; the transaction is over
}

// deferred is a statement sent later, with what reads its one row.
type deferred struct {
	sql   string
	args  []any
	owner int
	then  func(pgx.Row) error
}

var _ querier = (*pipe)(nil)

// Mark implements store.Marker.
func (p *pipe) Mark(i int) { p.owner = i }

// Defer sends sql later, before the next statement or COMMIT; then reads
// its row, and its error fails the write running now. COMMIT may go in the
// same round trip, so sql must fail in the database whenever then would
// fail: then only translates the database's error. (A failure found in Go
// after the batch ran would come after COMMIT.)
func (p *pipe) Defer(sql string, args []any, then func(pgx.Row) error) {
	p.queue = append(p.queue, deferred{sql: sql, args: args, owner: p.owner, then: then})
}

// send sends BEGIN (once), what waits, and then last, in one batch;
// last (when not nil) queues one statement and reads its result.
func (p *pipe) send(ctx context.Context, queue func(*pgx.Batch), read func(pgx.BatchResults) error) error {
	if p.err != nil {
		return p.err
	}
	b := &pgx.Batch{}
	begin := !p.begun
	if begin {
		b.Queue("BEGIN")
		b.Queue("SELECT pg_advisory_xact_lock($1)", int64(writeLock))
	}
	waiting := p.queue
	p.queue, p.begun = nil, true
	for _, d := range waiting {
		b.Queue(d.sql, d.args...)
	}
	if queue != nil {
		queue(b)
	}
	if b.Len() == 0 {
		return nil
	}
	br := p.conn.SendBatch(ctx, b)
	err := func() error {
		if begin {
			for range 2 {
				if _, err := br.Exec(); err != nil {
					return &store.WriteFailed{Index: -1, Err: err}
				}
			}
		}
		for _, d := range waiting {
			if err := d.then(br.QueryRow()); err != nil {
				return &store.WriteFailed{Index: d.owner, Err: err}
			}
		}
		if read != nil {
			return read(br)
		}
		return nil
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = &store.WriteFailed{Index: -1, Err: cerr}
	}
	if wf := (*store.WriteFailed)(nil); errors.As(err, &wf) {
		p.err = err
	}
	return err
}

// Exec implements querier: it runs sql now, with what waits.
func (p *pipe) Exec(ctx context.Context, sql string, args ...any) (tag pgconn.CommandTag, err error) {
	err = p.send(ctx, func(b *pgx.Batch) { b.Queue(sql, args...) }, func(br pgx.BatchResults) error {
		tag, err = br.Exec()
		return p.failed(err)
	})
	return tag, err
}

// QueryRow implements querier: the row is read, with what waits, when it
// is scanned.
func (p *pipe) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return lazyRow{p: p, ctx: ctx, sql: sql, args: args}
}

type lazyRow struct {
	p    *pipe
	ctx  context.Context
	sql  string
	args []any
}

func (r lazyRow) Scan(dest ...any) error {
	return r.p.send(r.ctx, func(b *pgx.Batch) { b.Queue(r.sql, r.args...) }, func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(dest...)
		if errors.Is(err, pgx.ErrNoRows) {
			return err // an answer, not a failure
		}
		return r.p.failed(err)
	})
}

// Query implements querier: what waits goes first, then the query.
func (p *pipe) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := p.send(ctx, nil, nil); err != nil {
		return nil, err
	}
	rows, err := p.conn.Query(ctx, sql, args...)
	return rows, p.failed(err)
}

// failed records a statement's error as the end of the transaction (one
// failed statement aborts it) and returns it.
func (p *pipe) failed(err error) error {
	if err != nil && p.err == nil {
		p.err = err
	}
	return err
}

// commit sends what waits, then (when notify) the due notice, and COMMIT,
// in one round trip. A transaction that sent nothing commits nothing.
func (p *pipe) commit(ctx context.Context, notify bool) error {
	if !p.begun && len(p.queue) == 0 {
		return nil
	}
	return p.send(ctx, func(b *pgx.Batch) {
		if notify {
			// Delivered on commit, to the leader's Listen: a page or a job a
			// standby committed goes now, not at the next tick.
			b.Queue(`SELECT pg_notify($1, '')`, dueChannel)
		}
		b.Queue("COMMIT")
	}, func(br pgx.BatchResults) error {
		if notify {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		tag, err := br.Exec()
		if err == nil && tag.String() == "ROLLBACK" {
			err = errors.New("store: the transaction was rolled back")
		}
		if err != nil {
			return &store.WriteFailed{Index: -1, Err: fmt.Errorf("store: commit: %w", err)}
		}
		return nil
	})
}

// rollback ends a transaction that did not commit. It reports false when
// the connection cannot be trusted any more.
func (p *pipe) rollback(ctx context.Context) bool {
	if !p.begun {
		return true
	}
	_, err := p.conn.Exec(ctx, "ROLLBACK")
	return err == nil
}
