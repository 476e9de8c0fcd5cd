package bolt

import (
	"errors"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/store"
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store: closed")

// maxGroup bounds how many writes share one commit.
const maxGroup = 1024

// A write is one caller's function, run inside a shared transaction.
type write = store.Write[*bbolt.Tx]

// update runs fn in a write transaction and returns once the transaction
// is committed and synced to disk.
//
// Writes are group-committed: one goroutine takes every write that is
// waiting, runs them in one transaction and pays one fsync for all. A lone
// writer waits for nothing but its own fsync; concurrent writers share
// theirs. (bbolt's Batch waits for a timer instead, which costs a single
// writer 10 ms per write.) If a function fails, its caller gets the error
// and the others are run again without it, so fn must be safe to re-run.
func (s *core) update(fn func(*bbolt.Tx) error) error {
	w := store.NewWrite(fn)
	select {
	case s.writes <- w:
		return <-w.Done
	case <-s.closing:
		return ErrClosed
	}
}

// commitLoop is the one goroutine that writes.
func (s *core) commitLoop() {
	defer close(s.stopped)
	store.GroupCommit(s.writes, s.closing, maxGroup, s.commit)
}

// commit runs group in one transaction (see store.CommitGroup).
func (s *core) commit(group []write) {
	store.CommitGroup(group, s.db.Update)
}
