package bolt

import (
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/store"
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store: closed")

// maxGroup bounds how many writes share one commit.
const maxGroup = 1024

// A write is one caller's function, run inside a shared transaction.
type write struct {
	fn   func(*bbolt.Tx) error
	done chan error
}

// update runs fn in a write transaction and returns once the transaction
// is committed and synced to disk.
//
// Writes are group-committed: one goroutine takes every write that is
// waiting, runs them in one transaction and pays one fsync for all. A lone
// writer waits for nothing but its own fsync; concurrent writers share
// theirs. (bbolt's Batch waits for a timer instead, which costs a single
// writer 10 ms per write.) If a function fails, its caller gets the error
// and the others are run again without it, so fn must be safe to re-run.
func (s *Store) update(fn func(*bbolt.Tx) error) error {
	w := write{fn: fn, done: make(chan error, 1)}
	select {
	case s.writes <- w:
		return <-w.done
	case <-s.closing:
		return ErrClosed
	}
}

// commitLoop is the one goroutine that writes.
func (s *Store) commitLoop() {
	defer close(s.stopped)
	store.GroupCommit(s.writes, s.closing, maxGroup, s.commit)
}

// commit runs group in one transaction, dropping and reporting failed
// functions until the rest commit or the commit itself fails.
func (s *Store) commit(group []write) {
	for len(group) > 0 {
		failed, ferr := -1, error(nil)
		err := s.db.Update(func(tx *bbolt.Tx) error {
			for i, w := range group {
				if err := safely(w.fn, tx); err != nil {
					failed, ferr = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			// Committed (err == nil) or the commit itself failed: either
			// way every function shares the outcome.
			for _, w := range group {
				w.done <- err
			}
			return
		}
		group[failed].done <- ferr
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// safely runs fn, turning a panic into an error so one bad write cannot
// stop the committer.
func safely(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return fn(tx)
}
