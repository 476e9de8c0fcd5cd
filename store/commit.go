package store

import (
	"errors"
	"fmt"
)

// GroupCommit is a store's committer: it takes the first write waiting on
// writes and every other one waiting then (up to max), hands them to
// commit together, and again, until closing is closed. A lone writer waits
// for nothing but its own commit; concurrent writers share one.
func GroupCommit[W any](writes <-chan W, closing <-chan struct{}, max int, commit func([]W)) {
	for {
		var first W
		select {
		case first = <-writes:
		case <-closing:
			return
		}
		group := []W{first}
	drain:
		for len(group) < max {
			select {
			case w := <-writes:
				group = append(group, w)
			default:
				break drain
			}
		}
		commit(group)
	}
}

// A Write is one caller's function, to run inside a transaction (a T) it
// may share with other callers'. Its outcome arrives on Done.
type Write[T any] struct {
	Fn   func(T) error
	Done chan error
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
