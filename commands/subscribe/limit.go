package subscribe

import (
	"sync"
	"time"
)

// limiter allows max events per key in each fixed window. It lives in
// memory: each replica counts on its own.
type limiter struct {
	max    int
	window time.Duration

	mu   sync.Mutex
	seen map[string]windowCount
}

type windowCount struct {
	start time.Time
	n     int
}

// maxKeys bounds the keys a limiter keeps; past it, windows that ended
// are forgotten first.
const maxKeys = 100_000

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, seen: map[string]windowCount{}}
}

// allow counts an event of key at now: false, with how long until its
// window ends, when key had max events in it already.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w, ok := l.seen[key]
	if !ok || now.Sub(w.start) >= l.window {
		if len(l.seen) >= maxKeys {
			l.prune(now)
		}
		w = windowCount{start: now}
	}
	if w.n >= l.max {
		return false, w.start.Add(l.window).Sub(now)
	}
	w.n++
	l.seen[key] = w
	return true, 0
}

// prune forgets ended windows; if none ended, all of them (a flood of
// distinct keys must not grow memory without bound).
func (l *limiter) prune(now time.Time) {
	for k, w := range l.seen {
		if now.Sub(w.start) >= l.window {
			delete(l.seen, k)
		}
	}
	if len(l.seen) >= maxKeys {
		clear(l.seen)
	}
}
