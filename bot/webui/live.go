package webui

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// live tells open pages that incidents changed, over server-sent events:
// the page then fetches itself again and swaps in what changed. It
// follows the incidents' changes (bot.Follower); a change is told a
// quarter of a second later, so the page reads it committed, and several
// changes close together are told once.
type live struct {
	mu      sync.Mutex
	clients map[chan struct{}]bool
	pending bool
}

var _ bot.Follower = (*live)(nil)

// Follow implements bot.Follower.
func (l *live) Follow(_ bot.Tx, _ bot.Change) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.pending {
		l.pending = true
		time.AfterFunc(250*time.Millisecond, l.tell)
	}
	return nil
}

func (l *live) tell() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = false
	for c := range l.clients {
		select {
		case c <- struct{}{}:
		default: // told already, not read yet
		}
	}
}

func (l *live) add() chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil {
		l.clients = map[chan struct{}]bool{}
	}
	c := make(chan struct{}, 1)
	l.clients[c] = true
	return c
}

func (l *live) remove(c chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.clients, c)
}

// Open counts the pages listening.
func (l *live) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// keepAlive is how often an idle stream gets a comment, so proxies keep it.
const keepAlive = 25 * time.Second

// handleEvents streams "changed" events to a signed-in page until it
// goes away.
func (u *UI) handleEvents(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported here", http.StatusInternalServerError)
		return
	}
	// The server's write timeout would cut the stream: this one ends when
	// the page goes away.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 5000\n\n")
	flusher.Flush()
	c := u.live.add()
	defer u.live.remove(c)
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c:
			fmt.Fprint(w, "event: changed\ndata: {}\n\n")
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		}
		flusher.Flush()
	}
}

// Follower is what the lifecycle tells of each change, so open pages
// update.
func (u *UI) Follower() bot.Follower { return &u.live }
