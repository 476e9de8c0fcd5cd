package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// memLease is a lease table in memory: one row, with an expiry, and a
// switch that cuts one holder off from it (its database is unreachable).
type memLease struct {
	mu      sync.Mutex
	holder  string
	expires time.Time
	term    int64
	cut     map[string]bool
}

type memHandle struct {
	m      *memLease
	holder string
	ttl    time.Duration
}

func (h memHandle) TTL() time.Duration { return h.ttl }

func (h memHandle) Try(ctx context.Context) (bool, int64, error) {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	if h.m.cut[h.holder] {
		return false, 0, errors.New("connection refused")
	}
	now := time.Now()
	if h.m.holder == h.holder || now.After(h.m.expires) {
		if h.m.holder != h.holder {
			h.m.term++
		}
		h.m.holder, h.m.expires = h.holder, now.Add(h.ttl)
		return true, h.m.term, nil
	}
	return false, 0, nil
}

func (h memHandle) Release(context.Context) error {
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	if h.m.holder == h.holder && !h.m.cut[h.holder] {
		h.m.expires = time.Time{}
	}
	return nil
}

// span is when one replica acted as leader.
type span struct {
	who        string
	start, end time.Time
}

// TestOneLeaderAtATime: two replicas share a lease; the leader is cut off
// from the database. It stops acting before the lease expires, the other
// takes over after that, and their times as leader never overlap; a
// clean shutdown hands over at once.
func TestOneLeaderAtATime(t *testing.T) {
	const ttl = 500 * time.Millisecond
	m := &memLease{cut: map[string]bool{}}
	var mu sync.Mutex
	var spans []span
	work := func(who string) func(context.Context) error {
		return func(ctx context.Context) error {
			mu.Lock()
			spans = append(spans, span{who: who, start: time.Now()})
			i := len(spans) - 1
			mu.Unlock()
			<-ctx.Done()
			mu.Lock()
			spans[i].end = time.Now()
			mu.Unlock()
			return nil
		}
	}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	var roleA, roleB atomic.Value
	doneA, doneB := make(chan error, 1), make(chan error, 1)
	go func() { doneA <- lead(ctxA, memHandle{m, "a", ttl}, zerolog.Nop(), &roleA, work("a")) }()
	waitRole := func(r *atomic.Value, want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); r.Load() != want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("role is %v; want %s", r.Load(), want)
			}
		}
	}
	waitRole(&roleA, roleLeader)
	go func() { doneB <- lead(ctxB, memHandle{m, "b", ttl}, zerolog.Nop(), &roleB, work("b")) }()
	time.Sleep(3 * ttl)
	if roleB.Load() != roleStandby {
		t.Fatalf("b leads while a renews: %v", roleB.Load())
	}
	// a loses the database: it must stop before its lease ends, b take over after.
	m.mu.Lock()
	m.cut["a"] = true
	expires := m.expires
	m.mu.Unlock()
	waitRole(&roleB, roleLeader)
	waitRole(&roleA, roleStandby)
	mu.Lock()
	if spans[0].who != "a" || spans[0].end.IsZero() || !spans[0].end.Before(expires) {
		t.Errorf("a stopped at %v; its lease expired at %v", spans[0].end, expires)
	}
	if last := spans[len(spans)-1]; last.who != "b" || !last.start.After(expires) {
		t.Errorf("b started at %v, before a's lease expired at %v", last.start, expires)
	}
	mu.Unlock()
	// a is back: it stands by. b shuts down cleanly: a takes over at once.
	m.mu.Lock()
	m.cut["a"] = false
	m.mu.Unlock()
	time.Sleep(2 * ttl)
	if roleA.Load() != roleStandby {
		t.Fatalf("a leads beside b")
	}
	stoppedB := time.Now()
	stopB()
	if err := <-doneB; err != nil {
		t.Fatal(err)
	}
	waitRole(&roleA, roleLeader)
	if took := time.Since(stoppedB); took > ttl {
		t.Errorf("after a clean shutdown the standby took %v to lead; want less than the lease (%v)", took, ttl)
	}
	stopA()
	<-doneA
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(spans); i++ {
		if spans[i].start.Before(spans[i-1].end) {
			t.Errorf("%s led from %v while %s led until %v", spans[i].who, spans[i].start, spans[i-1].who, spans[i-1].end)
		}
	}
}

// TestLeadEndsWithItsWork: work failing on its own (a platform refusing
// klaxon's token) ends lead with that error.
func TestLeadEndsWithItsWork(t *testing.T) {
	var role atomic.Value
	boom := errors.New("discord refused the token")
	err := lead(context.Background(), memHandle{&memLease{cut: map[string]bool{}}, "a", time.Second}, zerolog.Nop(), &role,
		func(context.Context) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("lead = %v; want the work's error", err)
	}
}
