package store

import (
	"errors"
	"strings"
	"testing"
)

// ledger is a pretend transaction: what its functions wrote, kept only if
// it commits.
type ledger struct{ lines []string }

func TestCommitGroupDropsFailuresAndSharesTheOutcome(t *testing.T) {
	var committed []string
	tries := 0
	inTx := func(fail error) func(run func(*ledger) error) error {
		return func(run func(*ledger) error) error {
			tries++
			l := &ledger{}
			if err := run(l); err != nil {
				return err // rolled back
			}
			if fail != nil {
				return fail
			}
			committed = append(committed, l.lines...)
			return nil
		}
	}
	writes := func(fns ...func(*ledger) error) []Write[*ledger] {
		var ws []Write[*ledger]
		for _, fn := range fns {
			ws = append(ws, NewWrite(fn))
		}
		return ws
	}
	add := func(s string) func(*ledger) error {
		return func(l *ledger) error { l.lines = append(l.lines, s); return nil }
	}
	refused := errors.New("refused")

	group := writes(add("a"), func(*ledger) error { return refused }, add("b"),
		func(*ledger) error { panic("boom") }, add("c"))
	CommitGroup(group, inTx(nil))
	got := []error{<-group[0].Done, <-group[1].Done, <-group[2].Done, <-group[3].Done, <-group[4].Done}
	if got[0] != nil || got[2] != nil || got[4] != nil {
		t.Errorf("the good writes failed: %v", got)
	}
	if got[1] != refused {
		t.Errorf("the failing write got %v, want its own error", got[1])
	}
	if got[3] == nil || !strings.Contains(got[3].Error(), "store: write panicked: boom") {
		t.Errorf("the panicking write got %v", got[3])
	}
	if strings.Join(committed, "") != "abc" || tries != 3 {
		t.Errorf("committed %q in %d tries, want abc in 3 (each failure rolls back and retries the rest)", committed, tries)
	}

	disk := errors.New("disk full")
	committed, tries = nil, 0
	group = writes(add("d"), add("e"))
	CommitGroup(group, inTx(disk))
	for i, w := range group {
		if err := <-w.Done; err != disk {
			t.Errorf("write %d got %v after a failed commit, want %v", i, err, disk)
		}
	}
	if len(committed) != 0 || tries != 1 {
		t.Errorf("a failed commit kept %q after %d tries", committed, tries)
	}
}

// pipeline is a pretend transaction that, like store/pg's pipe, checks
// some writes only when it commits: a write marked bad fails then, and the
// transaction must blame it, not the last function that ran.
type pipeline struct {
	ledger
	owner int
	late  []int // writes whose statements fail when sent
}

func (p *pipeline) Mark(i int) { p.owner = i }

func TestCommitGroupBlamesTheWriteALateFailureNames(t *testing.T) {
	var committed []string
	tries := 0
	inTx := func(run func(*pipeline) error) error {
		tries++
		p := &pipeline{}
		if err := run(p); err != nil {
			return err
		}
		if len(p.late) > 0 { // sent with COMMIT: the first bad one fails it
			return &WriteFailed{Index: p.late[0], Err: errors.New("no such incident")}
		}
		committed = append(committed, p.lines...)
		return nil
	}
	add := func(s string, bad bool) Write[*pipeline] {
		return NewWrite(func(p *pipeline) error {
			p.lines = append(p.lines, s)
			if bad {
				p.late = append(p.late, p.owner) // deferred: fails later
			}
			return nil
		})
	}
	group := []Write[*pipeline]{add("a", false), add("b", true), add("c", false), add("d", false)}
	CommitGroup(group, inTx)
	for i, want := range []string{"", "no such incident", "", ""} {
		got := ""
		if err := <-group[i].Done; err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("write %d got %q, want %q", i, got, want)
		}
	}
	if strings.Join(committed, "") != "acd" || tries != 2 {
		t.Errorf("committed %q in %d tries, want acd in 2", committed, tries)
	}

	// Index -1: the transaction itself failed; every write shares it.
	group = []Write[*pipeline]{add("a", false), add("b", false)}
	CommitGroup(group, func(run func(*pipeline) error) error {
		_ = run(&pipeline{})
		return &WriteFailed{Index: -1, Err: errors.New("connection lost")}
	})
	for i := range group {
		if err := <-group[i].Done; err == nil || err.Error() != "connection lost" {
			t.Errorf("write %d got %v, want the transaction's failure", i, err)
		}
	}
}
