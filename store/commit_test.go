package store

import (
	"errors"
	"runtime"
	"strings"
	"sync"
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

// The Committer: a lone writer commits alone; writers who arrive while a
// commit runs share the next one; nothing is lost or committed twice;
// after Close, writes are refused and none is under way.
func TestCommitterSharesCommitsAndLosesNothing(t *testing.T) {
	var mu sync.Mutex
	var commits [][]int
	gate := make(chan struct{})
	first := true
	c := NewCommitter(64, func(group []Write[*[]int]) {
		mu.Lock()
		wait := first
		first = false
		mu.Unlock()
		if wait {
			<-gate // hold the first commit until the others queue behind it
		}
		CommitGroup(group, func(run func(*[]int) error) error {
			var got []int
			if err := run(&got); err != nil {
				return err
			}
			mu.Lock()
			commits = append(commits, got)
			mu.Unlock()
			return nil
		})
	})
	write := func(i int) func(*[]int) error {
		return func(l *[]int) error { *l = append(*l, i); return nil }
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := c.Do(write(0)); err != nil {
			t.Error(err)
		}
	})
	for !c.running() {
		runtime.Gosched()
	}
	for i := 1; i <= 20; i++ {
		wg.Go(func() {
			if err := c.Do(write(i)); err != nil {
				t.Error(err)
			}
		})
	}
	for c.queued() < 20 {
		runtime.Gosched()
	}
	close(gate)
	wg.Wait()

	seen := map[int]int{}
	for _, g := range commits {
		for _, i := range g {
			seen[i]++
		}
	}
	if len(commits) != 2 || len(commits[0]) != 1 || len(commits[1]) != 20 {
		t.Errorf("commits %v: want the first alone and the 20 that waited in one", commits)
	}
	for i := 0; i <= 20; i++ {
		if seen[i] != 1 {
			t.Errorf("write %d committed %d times", i, seen[i])
		}
	}
	c.Close()
	if err := c.Do(write(99)); !errors.Is(err, ErrClosed) {
		t.Errorf("a write after Close: %v, want ErrClosed", err)
	}
}

// running reports whether a commit runs; queued, how many writes wait.
func (c *Committer[T]) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leading
}

func (c *Committer[T]) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiting)
}
