package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot/pager"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// triggers records the triggers a webhook pager receives, and what the
// fake Slack held when each arrived.
type triggers struct {
	srv      *httptest.Server
	mu       sync.Mutex
	got      []pager.WebhookEvent
	channels []int // channels in the fake Slack when each arrived
}

func newTriggers(t testing.TB, channels func() int) *triggers {
	tr := &triggers{}
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev pager.WebhookEvent
		json.Unmarshal(body, &ev)
		tr.mu.Lock()
		if ev.Event == "trigger" {
			tr.got = append(tr.got, ev)
			tr.channels = append(tr.channels, channels())
		}
		tr.mu.Unlock()
		w.WriteHeader(202)
	}))
	t.Cleanup(tr.srv.Close)
	return tr
}

func (tr *triggers) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.got)
}

// outboxKlaxon runs klaxon on outboxConfig, paging tr, with the fake's
// tokens, apiURL as Slack's Web API and the extra settings.
func outboxKlaxon(t testing.TB, fake *slackfake.Server, tr *triggers, apiURL string, extra env) *slackKlaxon {
	t.Helper()
	db := filepath.Join(t.TempDir(), "k.db")
	e := env{"KLAXON_STORE_PATH": db, "KLAXON_SLACK_APP_TOKEN": fake.AppToken, "KLAXON_SLACK_BOT_TOKEN": fake.BotToken, "KLAXON_SLACK_API_URL": apiURL}
	maps.Copy(e, extra)
	return &slackKlaxon{fake: fake, db: db, running: runKlaxon(t, fmt.Sprintf(outboxConfig, tr.srv.URL), e)}
}

// postGenericAlert posts body to outboxConfig's generic alert source and
// returns the status.
func postGenericAlert(t *testing.T, base, body string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/alerts/generic", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer outbox-generic-token-0123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const outboxConfig = `
people:
  - {id: alice, name: Alice, slack_id: U0ALICE}
  - {id: bob, name: Bob, slack_id: U0BOB}
services:
  - {id: payments, escalation_policy: payments}
escalation_policies:
  - {id: payments, steps: [{delay: 5m, targets: [{person: bob}]}]}
pagers:
  - {id: hook, type: webhook, url: "%s", secret: outbox-signing-s3cret}
alerts:
  sources:
    - {name: generic, token: outbox-generic-token-0123}
api:
  tokens:
    - {name: bench, token: outbox-api-write-token-0123, scope: write}
`

// TestPagingNeverWaitsForChat: with every Web API call taking 3 s, the
// on-call is paged while Slack is still creating the channel: the page
// commits with the declaration and does not queue behind chat.
func TestPagingNeverWaitsForChat(t *testing.T) {
	fake := newFake(t)
	tr := newTriggers(t, func() int { return len(fake.Channels()) })
	k := outboxKlaxon(t, fake, tr, fake.URL(), nil)
	k.waitFor("the connection", fake.Connected)
	fake.SetDelay(3 * time.Second)
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Card payments fail" sev:1 service:payments`))
	k.waitFor("bob's page", func() bool { return tr.count() == 1 })
	tr.mu.Lock()
	before := tr.channels[0]
	tr.mu.Unlock()
	if before != 0 {
		t.Errorf("the page arrived after Slack created the channel; paging waited for chat")
	}
	// Chat catches up: channel, pinned summary, announcement are all done.
	fake.SetDelay(0)
	k.waitFor("the channel and its pinned summary", func() bool {
		c, ok := fake.ChannelByName("inc-1-card-payments-fail")
		return ok && len(c.Pins) == 1
	})
}

// TestKlaxonRunsWithoutSlack: klaxon started while Slack does not answer
// keeps running; an alert declares an incident and the on-call is paged;
// /readyz says Slack is down.
func TestKlaxonRunsWithoutSlack(t *testing.T) {
	fake := newFake(t)
	// A Slack that refuses connections: a closed port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/api/"
	ln.Close()
	tr := newTriggers(t, func() int { return len(fake.Channels()) })
	k := outboxKlaxon(t, fake, tr, down, nil)
	base := "http://" + k.httpAddr()
	if status := postGenericAlert(t, base, `{"title":"Checkout is down","severity":"SEV1","service":"payments","dedup_key":"k1","status":"firing"}`); status/100 != 2 {
		t.Fatalf("alert intake with Slack down = %d", status)
	}
	k.waitFor("the page while Slack is down", func() bool { return tr.count() == 1 })
	if status, body := get(t, base+"/readyz"); status != 503 || !strings.Contains(body, "slack") {
		t.Errorf("/readyz with Slack down = %d %q; want 503 naming slack", status, body)
	}
	if !strings.Contains(k.logs.String(), "slack is unreachable; klaxon works on") {
		t.Errorf("no log line says Slack is unreachable:\n%s", k.logs)
	}
}
