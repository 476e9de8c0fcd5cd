package outbox

import "sync"

// backlog remembers, per outbox destination (a chat platform, a pager, a
// hook), whether jobs for it may be waiting out a backoff. A success looks
// for them in the store only then, not after every job. Every destination
// starts out as "may be": what was held back before a restart is released
// by the first success after it.
type backlog struct {
	mu    sync.Mutex
	clear map[string]bool // destination → nothing held back since it last answered
}

// held records that a delivery to id was put back for a retry. Call it
// after the retry is committed.
func (b *backlog) held(id string) {
	b.mu.Lock()
	delete(b.clear, id)
	b.mu.Unlock()
}

// release runs retry, the store's pull-forward for id, when id may have
// deliveries held back, and returns how many it released.
func (b *backlog) release(id string, retry func() (int, error)) (int, error) {
	b.mu.Lock()
	if b.clear[id] {
		b.mu.Unlock()
		return 0, nil
	}
	if b.clear == nil {
		b.clear = map[string]bool{}
	}
	b.clear[id] = true
	b.mu.Unlock()
	n, err := retry()
	if err != nil {
		b.held(id) // look again after the next success
	}
	return n, err
}
