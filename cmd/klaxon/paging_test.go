package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/pager"
)

// TestPagingAcrossARestart stops klaxon between two escalation steps and
// starts it again on the same file: the next step fires on time and
// nothing is sent twice.
func TestPagingAcrossARestart(t *testing.T) {
	var mu sync.Mutex
	var got []pager.WebhookEvent
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev pager.WebhookEvent
		json.Unmarshal(body, &ev)
		mu.Lock()
		got = append(got, ev)
		mu.Unlock()
		w.WriteHeader(202)
	}))
	defer hook.Close()
	triggers := func(person string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, ev := range got {
			if ev.Event == "trigger" && ev.Person == person {
				n++
			}
		}
		return n
	}
	config := writeConfig(t, `
people:
  - {id: alice, name: Alice}
  - {id: bob, name: Bob}
services:
  - {id: payments, escalation_policy: payments}
schedules:
  - {id: primary, service: payments, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [alice]}]}
  - {id: secondary, service: payments, role: secondary, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [bob]}]}
escalation_policies:
  - id: payments
    steps:
      - {delay: 5m, targets: [{schedule: primary}]}
      - {delay: 5m, targets: [{schedule: secondary}]}
pagers:
  - {id: hook, type: webhook, url: "`+hook.URL+`", secret: paging-signing-s3cret}
`)
	db := filepath.Join(t.TempDir(), "k.db")
	clock := bot.NewFakeClock(time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC))
	start := func(script string) (stop func()) {
		in, w := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		logs := &syncBuffer{}
		m := &Main{Stdin: in, Stdout: logs, Stderr: logs, Clock: clock, TickEvery: 5 * time.Millisecond,
			Getenv: env{"KLAXON_STORE_PATH": db, "KLAXON_HTTP_LISTEN": "127.0.0.1:0", "USER": "alice"}.get}
		done := make(chan error, 1)
		go func() { done <- m.Execute(ctx, []string{"run", "--config", config}) }()
		io.WriteString(w, script)
		return func() {
			cancel()
			w.Close()
			if err := <-done; err != nil {
				t.Errorf("klaxon: %v\n%s", err, logs)
			}
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	stop := start("/incident declare \"Checkout is down\" sev:1 service:payments\n")
	waitFor("step 1 to page alice", func() bool { return triggers("alice") == 1 })
	stop()

	clock.Advance(5 * time.Minute)
	stop = start("")
	waitFor("step 2 to page bob after the restart", func() bool { return triggers("bob") == 1 })
	time.Sleep(50 * time.Millisecond) // a few more ticks: nothing may be sent again
	stop()
	if n := triggers("alice"); n != 1 {
		t.Errorf("alice was paged %d times; want once", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || !strings.HasPrefix(got[0].Summary, "INC-1 SEV1: Checkout is down") {
		t.Errorf("receiver got %+v", got)
	}
}
