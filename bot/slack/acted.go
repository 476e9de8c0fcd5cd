package slack

import (
	"sync"
	"time"

	"github.com/slack-go/slack/socketmode"
)

// actedFor is how long klaxon remembers what it acted on. Slack sends an
// envelope again within seconds to minutes of missing its acknowledgement.
const actedFor = 30 * time.Minute

// acted remembers the slash commands and interactions klaxon acted on.
// Slack sends an envelope again (retry_attempt) when it did not hear the
// acknowledgement in time, as when a connection drops just after klaxon
// acted; the copy is acknowledged again, and not acted on twice.
type acted struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// actedKey names what an envelope asks for: the trigger id Slack gives each
// command and interaction, or the envelope's id.
func actedKey(req *socketmode.Request, trigger string) string {
	if trigger != "" {
		return "trigger:" + trigger
	}
	if req != nil && req.EnvelopeID != "" {
		return "envelope:" + req.EnvelopeID
	}
	return ""
}

// add records key as acted on at now and reports whether it is new. An
// empty key is always new.
func (r *acted) add(key string, now time.Time) bool {
	if key == "" {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.seen[key]; ok && now.Sub(at) < actedFor {
		return false
	}
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	if len(r.seen) >= 1024 {
		for k, at := range r.seen {
			if now.Sub(at) >= actedFor {
				delete(r.seen, k)
			}
		}
	}
	r.seen[key] = now
	return true
}

// has reports whether key was acted on within actedFor of now.
func (r *acted) has(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.seen[key]
	return key != "" && ok && now.Sub(at) < actedFor
}
