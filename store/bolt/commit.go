package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/store"
)

// ErrClosed is returned by writes after Close.
var ErrClosed = store.ErrClosed

// maxGroup bounds how many writes share one commit.
const maxGroup = 1024

// A write is one caller's function, run inside a shared transaction.
type write = store.Write[*bbolt.Tx]

// update runs fn in a write transaction and returns once the transaction
// is committed and synced to disk.
//
// Writes are group-committed (store.Committer): a lone writer commits at
// once in its own goroutine and waits for nothing but its own fsync;
// writers who arrive meanwhile share the next commit and its fsync.
// (bbolt's Batch waits for a timer instead, which costs a single writer
// 10 ms per write.) If a function fails, its caller gets the error and the
// others are run again without it, so fn must be safe to re-run.
func (s *core) update(fn func(*bbolt.Tx) error) error {
	return s.writes.Do(fn)
}

// commit runs group in one transaction (see store.CommitGroup).
func (s *core) commit(group []write) {
	store.CommitGroup(group, s.db.Update)
}
