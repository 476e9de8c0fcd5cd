package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrClosed is what a write gets once its store is closing.
var ErrClosed = errors.New("store: closed")

// Committer group-commits a store's writes without a goroutine of its
// own. The writer who finds no commit running commits at once, in its own
// goroutine: a lone writer pays for its own commit and nothing else (no
// hand-off to a committer and back). Writers who arrive while a commit
// runs wait; when it ends, its leader hands the lead to the first of them,
// who commits every waiting write (up to max) together, so concurrent
// writers share a commit and its fsync. A leader commits once and leaves:
// nobody commits other people's writes for ever under a steady load.
type Committer[T any] struct {
	max    int
	commit func([]Write[T])

	mu      sync.Mutex
	leading bool       // a commit runs, or its lead is being handed on
	waiting []Write[T] // in arrival order
	closed  bool
	active  sync.WaitGroup // writes in Do, for Close
}

// NewCommitter returns a committer that runs commit on groups of at most
// max writes (see CommitGroup).
func NewCommitter[T any](max int, commit func([]Write[T])) *Committer[T] {
	return &Committer[T]{max: max, commit: commit}
}

// Do runs fn in a committed transaction, alone or with others', and
// returns its outcome once that transaction has committed or failed.
func (c *Committer[T]) Do(fn func(T) error) error {
	w := NewWrite(fn)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.active.Add(1)
	defer c.active.Done()
	group := []Write[T]{w}
	if c.leading {
		w.lead = make(chan struct{}, 1)
		c.waiting = append(c.waiting, w)
		c.mu.Unlock()
		select {
		case err := <-w.Done:
			return err
		case <-w.lead: // the last leader handed the lead on: commit w and all that wait
		}
		c.mu.Lock()
		n := min(len(c.waiting), c.max) // w is first
		group = slices.Clone(c.waiting[:n])
		c.waiting = slices.Delete(c.waiting, 0, n)
	}
	c.leading = true
	c.mu.Unlock()

	c.commit(group)

	c.mu.Lock()
	if len(c.waiting) == 0 {
		c.leading = false
	} else {
		c.waiting[0].lead <- struct{}{}
	}
	c.mu.Unlock()
	return <-w.Done
}

// Close refuses new writes and waits for those under way.
func (c *Committer[T]) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.active.Wait()
}

// Closed reports whether Close was called.
func (c *Committer[T]) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// A Write is one caller's function, to run inside a transaction (a T) it
// may share with other callers'. Its outcome arrives on Done.
type Write[T any] struct {
	Fn   func(T) error
	Done chan error
	lead chan struct{} // told when it is its turn to commit (Committer)
}

// NewWrite wraps fn for a store's committer.
func NewWrite[T any](fn func(T) error) Write[T] {
	return Write[T]{Fn: fn, Done: make(chan error, 1)}
}

// CommitGroup runs group's functions in one transaction: inTx opens one,
// runs run in it and commits unless run fails. A function that fails (or
// panics) gets its error, and the others run again in a new transaction
// without it; once they commit, or the commit itself fails, each of them
// gets that outcome. A function must therefore be safe to re-run.
//
// A transaction that sends some statements after the function that wrote
// them has returned (a Marker) learns whose function runs, and inTx
// reports such a late failure as a *WriteFailed naming its write.
func CommitGroup[T any](group []Write[T], inTx func(run func(T) error) error) {
	for len(group) > 0 {
		failed, ferr := -1, error(nil)
		err := inTx(func(tx T) error {
			m, _ := any(tx).(Marker)
			for i, w := range group {
				if m != nil {
					m.Mark(i)
				}
				if err := safely(w.Fn, tx); err != nil {
					failed, ferr = i, err
					return err
				}
			}
			return nil
		})
		if wf := (*WriteFailed)(nil); errors.As(err, &wf) {
			if failed, ferr = wf.Index, wf.Err; failed < 0 {
				err = wf.Err // the transaction itself: every write shares it
			}
		}
		if failed < 0 {
			// Committed (err == nil) or the commit itself failed: either
			// way every function shares the outcome.
			for _, w := range group {
				w.Done <- err
			}
			return
		}
		group[failed].Done <- ferr
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// Marker is a transaction that sends some statements after the function
// that wrote them has returned (a pipeline): CommitGroup marks whose
// function runs next, so a late failure can name its write.
type Marker interface{ Mark(i int) }

// WriteFailed is a failure inTx names: the write at Index (of the group it
// was given) failed, or, with Index -1, the transaction itself did and
// every write shares Err.
type WriteFailed struct {
	Index int
	Err   error
}

func (e *WriteFailed) Error() string { return e.Err.Error() }
func (e *WriteFailed) Unwrap() error { return e.Err }

// safely runs fn, turning a panic into an error so one bad write cannot
// stop the committer.
func safely[T any](fn func(T) error, tx T) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	return fn(tx)
}
