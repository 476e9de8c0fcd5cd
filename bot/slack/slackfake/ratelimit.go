package slackfake

import (
	"math"
	"time"
)

// Web API rate-limit tiers (docs.slack.dev/apis/web-api/rate-limits):
// calls per method per workspace per minute, "with occasional bursts".
const (
	tier1 = 1
	tier2 = 20
	tier3 = 50
	tier4 = 100
)

// MethodTiers is each method's tier, from its reference page.
var MethodTiers = map[string]int{
	"auth.test":                    tier4, // "Special": generous; tier 4 here
	"apps.connections.open":        tier1,
	"conversations.create":         tier2,
	"conversations.invite":         tier3,
	"conversations.setTopic":       tier2,
	"conversations.archive":        tier2,
	"conversations.setPurpose":     tier2,
	"conversations.open":           tier3,
	"chat.update":                  tier3,
	"chat.postEphemeral":           tier4,
	"pins.add":                     tier2,
	"files.getUploadURLExternal":   tier4,
	"files.completeUploadExternal": tier4,
	"views.open":                   tier4,
	"views.publish":                tier4,
	"conversations.list":           tier2,
	"usergroups.list":              tier2,
	"usergroups.create":            tier2,
	"usergroups.users.update":      tier2,
	"usergroups.enable":            tier2,
	"usergroups.disable":           tier2,
	// conversations.history: one call a minute for apps outside the
	// Marketplace, since 2025-05-29.
	"conversations.history": 1,
}

// chat.postMessage is special: "1 message per second to a specific
// channel", allowing short bursts, and several hundred a minute in all.
const (
	postPerChannelBurst = 3
	postPerMinute       = 300
)

// limiter answers whether a call may go now, and if not, when it may. It
// keeps the calls of the last minute per method (a sliding window) and a
// token bucket per channel for chat.postMessage.
type limiter struct {
	window  map[string][]time.Time  // method → call times within the last minute
	buckets map[string]*tokenBucket // channel → posts
	blocked map[string]time.Time    // key → end of the Retry-After given
	early   []Call                  // calls made inside a Retry-After window
}

type tokenBucket struct {
	tokens float64
	at     time.Time
}

func newLimiter() *limiter {
	return &limiter{window: map[string][]time.Time{}, buckets: map[string]*tokenBucket{}, blocked: map[string]time.Time{}}
}

// allow records a call of method (to channel, for posts) at now and returns
// 0 if it may go, else the Retry-After to answer.
func (l *limiter) allow(c Call, channel string, now time.Time) time.Duration {
	key := c.Method
	if c.Method == "chat.postMessage" {
		key += " " + channel
	}
	if until, ok := l.blocked[key]; ok && now.Before(until) {
		l.early = append(l.early, c)
		return until.Sub(now)
	}
	if wait := l.windowWait(c.Method, now); wait > 0 {
		l.blocked[key] = now.Add(wait)
		return wait
	}
	if c.Method == "chat.postMessage" {
		b := l.buckets[channel]
		if b == nil {
			b = &tokenBucket{tokens: postPerChannelBurst, at: now}
			l.buckets[channel] = b
		}
		b.tokens = math.Min(postPerChannelBurst, b.tokens+now.Sub(b.at).Seconds())
		b.at = now
		if b.tokens < 1 {
			wait := time.Duration((1 - b.tokens) * float64(time.Second))
			l.blocked[key] = now.Add(wait)
			return wait
		}
		b.tokens--
	}
	l.window[c.Method] = append(l.window[c.Method], now)
	return 0
}

// windowWait returns how long until method has room in its minute.
func (l *limiter) windowWait(method string, now time.Time) time.Duration {
	limit, ok := MethodTiers[method]
	if method == "chat.postMessage" {
		limit, ok = postPerMinute, true
	}
	if !ok {
		return 0
	}
	calls := l.window[method]
	for len(calls) > 0 && now.Sub(calls[0]) >= time.Minute {
		calls = calls[1:]
	}
	l.window[method] = calls
	if len(calls) < limit {
		return 0
	}
	return calls[0].Add(time.Minute).Sub(now)
}

// retryAfter is the Retry-After header's value: whole seconds, rounded up.
func retryAfter(d time.Duration) int { return int(math.Ceil(d.Seconds())) }
