package hooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/pager"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/hooks"
)

const hookSecret = "hook-secret-0123456789"

// hookReceiver checks each request's signature as a receiver would and
// keeps the events; fail makes the next n requests answer 500.
type hookReceiver struct {
	mu     sync.Mutex
	srv    *httptest.Server
	events []hooks.Body
	keys   map[string]int
	fail   int
	t      *testing.T
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{t: t, keys: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		ts, _ := strconv.ParseInt(req.Header.Get("X-Klaxon-Timestamp"), 10, 64)
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Header.Get("X-Klaxon-Signature") != pager.Sign(hookSecret, ts, body) {
			r.t.Errorf("bad signature on %s", body)
		}
		if r.fail > 0 {
			r.fail--
			w.WriteHeader(500)
			return
		}
		var ev hooks.Body
		if err := json.Unmarshal(body, &ev); err != nil {
			r.t.Errorf("hook body: %v: %s", err, body)
		}
		if req.Header.Get("X-Klaxon-Event") != ev.Event || req.Header.Get("Idempotency-Key") != ev.Delivery {
			r.t.Errorf("headers %v do not match the body %s", req.Header, body)
		}
		r.keys[ev.Delivery]++
		r.events = append(r.events, ev)
		w.WriteHeader(204)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) names() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		out = append(out, ev.Event)
	}
	return strings.Join(out, ",")
}

func hookTo(id string, r *hookReceiver, events ...string) hooks.Config {
	return hooks.Config{ID: id, Events: events, Post: func(ctx context.Context, d bot.HookDelivery) bot.SendResult {
		return pager.SignedPost(ctx, http.DefaultClient, r.srv.URL, hookSecret, d.Key, nil, d.Body, http.Header{"X-Klaxon-Event": {d.Event}})
	}}
}

// withHooks makes hooks follow e's incidents and the outbox send them.
func withHooks(e *commandstest.Env, cfg ...hooks.Config) {
	h := hooks.New(e.Clock, zerolog.Nop(), cfg)
	e.Incidents.Follow(h)
	e.Outbox.Handle(bot.OpHook, h)
}

func TestHooksFollowTheLifecycle(t *testing.T) {
	e := commandstest.NewNight(t)
	all, resolved := newHookReceiver(t), newHookReceiver(t)
	withHooks(e, hookTo("all", all, bot.HookEvents()...), hookTo("resolved", resolved, bot.HookResolved))

	e.Do("alice", "general", "/incident declare Checkout is down sev:2 service:payments")
	ch := e.Incident(1).Channel.ID
	e.Do("alice", ch, "/incident update rolling back")
	e.Do("alice", ch, "/incident sev 1")
	e.Do("alice", ch, "/incident ack")
	e.Do("alice", ch, "/incident followup Add a canary @bob due:2026-12-01")
	e.Do("alice", ch, "/incident mitigate")
	e.Do("alice", ch, "/incident resolve Rolled back")
	e.Do("alice", ch, "/incident close")

	want := "followup.created,incident.acknowledged,incident.closed,incident.declared,incident.mitigated,incident.resolved,incident.severity_changed,incident.updated,postmortem.generated"
	if got := sortedNames(all); got != want {
		t.Errorf("events =\n %s\nwant\n %s", got, want)
	}
	if got := resolved.names(); got != "incident.resolved" {
		t.Errorf("the resolved-only hook got %s", got)
	}
	all.mu.Lock()
	for _, ev := range all.events {
		if ev.Incident.Key != "INC-1" || ev.Incident.Title != "Checkout is down" {
			t.Errorf("%s: incident %+v", ev.Event, ev.Incident)
		}
		if ev.Event == bot.HookFollowUpCreated && (ev.Incident.Extra["followup"] != "F-1" || ev.Incident.Extra["due"] != "2026-12-01") {
			t.Errorf("follow-up event = %+v", ev)
		}
		// The declared event commits with the declaration, before the
		// channel exists; later events name it.
		if ev.Event == bot.HookResolved && ev.Incident.Channel == "" {
			t.Errorf("the resolved event has no channel: %+v", ev.Incident)
		}
	}
	all.mu.Unlock()
	e.Wait(time.Hour)
	if got := all.names(); strings.Count(got, ",") != strings.Count(want, ",") {
		t.Errorf("a sent event went out again: %s", got)
	}
}

// sortedNames lists the events received, sorted.
func sortedNames(r *hookReceiver) string {
	names := strings.Split(r.names(), ",")
	slices.Sort(names)
	return strings.Join(names, ",")
}

func TestHooksRetryUntilDelivered(t *testing.T) {
	e := commandstest.NewNight(t)
	r := newHookReceiver(t)
	r.fail = 2
	withHooks(e, hookTo("t", r, bot.HookDeclared))
	e.Do("alice", "general", "/incident declare Checkout is down") // the first attempt fails
	if r.names() != "" {
		t.Fatal("delivered despite a 500")
	}
	e.Wait(time.Second) // backoff (2 s ± 20 %) not over: no attempt
	r.mu.Lock()
	if r.fail != 1 {
		t.Errorf("attempted before the backoff was over (%d failures left)", r.fail)
	}
	r.mu.Unlock()
	e.Wait(2 * time.Second) // the second fails; the next waits 4 s ± 20 %
	e.Wait(5 * time.Second)
	if got := r.names(); got != "incident.declared" {
		t.Fatalf("after retries: %q", got)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != 0 || len(r.keys) != 1 {
		t.Errorf("fail left %d, %d distinct deliveries", r.fail, len(r.keys))
	}
}

// A hook's events go one after another in the order they happened: while
// the receiver is down the later ones wait behind the first, and however
// long the outage, none is dropped.
func TestHooksCatchUpInOrderWhenTheReceiverIsBack(t *testing.T) {
	e := commandstest.NewNight(t)
	r := newHookReceiver(t)
	r.fail = 1000
	withHooks(e, hookTo("t", r, bot.HookDeclared, bot.HookUpdated, bot.HookAcknowledged, bot.HookSeverityChanged))
	e.Do("alice", "general", "/incident declare Checkout is down sev:3")
	ch := e.Incident(1).Channel.ID
	for range 30 {
		e.Wait(time.Minute) // the declaration fails again and again: its backoff grows to 5 min
	}
	e.Do("alice", ch, "/incident update rolling back")
	e.Do("alice", ch, "/incident ack")
	r.mu.Lock()
	r.fail = 0 // the receiver is back
	r.mu.Unlock()
	e.Do("alice", ch, "/incident sev 1")
	e.Wait(6 * time.Minute) // the longest backoff
	if got := r.names(); got != "incident.declared,incident.updated,incident.acknowledged,incident.severity_changed" {
		t.Fatalf("received %q; want every event, in the order they happened", got)
	}
}
