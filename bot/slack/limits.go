package slack

import (
	"context"
	"sync"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// gate keeps every caller of a Web API method out of a Retry-After window
// Slack gave any of them, and paces posts to one a second per channel
// ("chat.postMessage ... 1 message per second to a specific channel",
// docs.slack.dev/apis/web-api/rate-limits). Outbox jobs are told when to
// come back; replies to people wait their turn.
type gate struct {
	mu       sync.Mutex
	blocked  map[string]time.Time   // method → end of the Retry-After window
	lastPost map[string]time.Time   // channel → when the last post may have gone
	calls    map[string][]time.Time // method → its calls in the last minute
	now      func() time.Time
}

func newGate(now func() time.Time) *gate {
	return &gate{blocked: map[string]time.Time{}, lastPost: map[string]time.Time{}, calls: map[string][]time.Time{}, now: now}
}

// window is Slack's minute, and a second more: klaxon counts a call when
// it sends it, Slack when it arrives.
const window = time.Minute + time.Second

// perMinute is each method's rate-limit tier, calls per minute
// (docs.slack.dev/apis/web-api/rate-limits and each method's page): klaxon
// stays inside it rather than learning it from 429s, because calls in
// flight when a 429 comes back would land inside its Retry-After window.
var perMinute = map[string]int{
	"conversations.create":     20, // tier 2
	"conversations.setTopic":   20,
	"conversations.setPurpose": 20,
	"conversations.archive":    20,
	"pins.add":                 20,
	"conversations.list":       20,
	"usergroups.list":          20,
	"usergroups.create":        20,
	"usergroups.users.update":  20,
	"usergroups.enable":        20,
	"usergroups.disable":       20,
	"conversations.invite":     50, // tier 3
	"conversations.open":       50,
	"chat.update":              50,
	"chat.postMessage":         300, // special: one a second per channel, several hundred a minute
	"conversations.history":    1,   // apps outside the Marketplace, since 2025-05-29
}

// postEvery is the pace of posts to one channel.
const postEvery = time.Second

// reserve returns how long the caller must wait before calling method (on
// channel, for posts); 0 means go, and the call is counted as made at
// g.now(), which it also returns.
func (g *gate) reserve(method, channel string) (time.Duration, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if until := g.blocked[method]; now.Before(until) {
		return until.Sub(now), now
	}
	if limit, ok := perMinute[method]; ok {
		calls := g.calls[method]
		for len(calls) > 0 && now.Sub(calls[0]) >= window {
			calls = calls[1:]
		}
		g.calls[method] = calls
		if len(calls) >= limit {
			return calls[0].Add(window).Sub(now), now
		}
	}
	if method == "chat.postMessage" && channel != "" {
		if next := g.lastPost[channel].Add(postEvery); now.Before(next) {
			return next.Sub(now), now
		}
		g.lastPost[channel] = now
	}
	g.calls[method] = append(g.calls[method], now)
	return 0, now
}

// unreached gives back the count of a call made at at that never reached
// Slack's rate limiter (refused, 5xx, timed out): after an outage its
// tier is not spent on calls Slack did not serve.
func (g *gate) unreached(method string, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	calls := g.calls[method]
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Equal(at) {
			g.calls[method] = append(calls[:i:i], calls[i+1:]...)
			return
		}
	}
}

// limited records Slack's Retry-After for method.
func (g *gate) limited(method string, after time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until := g.now().Add(after); until.After(g.blocked[method]) {
		g.blocked[method] = until
	}
}

// enter is for outbox jobs: nil to go ahead, or an error that says when
// to try again.
func (g *gate) enter(method, channel string) (time.Time, error) {
	wait, at := g.reserve(method, channel)
	if wait > 0 {
		return at, &bot.Error{Code: bot.EUNAVAILABLE, Message: "Slack asked klaxon to slow down; it will try again", RetryAfter: wait}
	}
	return at, nil
}

// await is for replies to people: it waits its turn (ctx permitting).
func (g *gate) await(ctx context.Context, method, channel string) (time.Time, error) {
	for {
		wait, at := g.reserve(method, channel)
		if wait == 0 {
			return at, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return time.Time{}, ctx.Err()
		case <-t.C:
		}
	}
}
