package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var listening = regexp.MustCompile(`"addr":"(127\.0\.0\.1:\d+)"[^\n]*"message":"http listening"`)

// httpAddr waits for klaxon's HTTP listener and returns its address.
func (r *running) httpAddr() string {
	r.t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(r.logs.String()); m != nil {
			return m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("klaxon did not start listening; logs:\n%s", r.logs)
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of one sample line of a /metrics page.
func metric(page, sample string) string {
	for _, line := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return "absent"
}

func TestMetricsReadinessAndAlertsOverHTTP(t *testing.T) {
	fake := newFake(t)
	k := startSlack(t, fake, filepath.Join(t.TempDir(), "klaxon.db"))
	base := "http://" + k.httpAddr()
	// The fake counts the socket as connected once it sent hello; klaxon
	// is ready once it read it.
	k.waitFor("/readyz to answer 200 with Slack connected", func() bool { status, _ := get(t, base+"/readyz"); return status == 200 })

	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "DB down" sev:2`))
	k.waitFor("the incident channel and its pinned summary", func() bool {
		chans := fake.Channels()
		return len(chans) == 1 && len(chans[0].Pins) == 1
	})
	k.waitFor("the outbox to empty", func() bool {
		_, page := get(t, base+"/metrics")
		return metric(page, `klaxon_jobs{destination="slack",state="pending"}`) == "0"
	})
	// The generic source is off unless configured: 404 with the reason.
	resp, err := http.Post(base+"/alerts/generic", "application/json", strings.NewReader(`{"title":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST /alerts/generic not configured = %d", resp.StatusCode)
	}

	status, page := get(t, base+"/metrics")
	if status != 200 {
		t.Fatalf("/metrics = %d", status)
	}
	for sample, want := range map[string]string{
		`klaxon_incidents{severity="SEV2",status="open"}`: "1",
		`klaxon_chat_reconnects_total{platform="slack"}`:  "0",
		`klaxon_outbox_due`: "0",
		`klaxon_scrape_ok`:  "1",
		`klaxon_jobs{destination="slack",state="failed"}`: "0",
	} {
		if got := metric(page, sample); got != want {
			t.Errorf("%s = %s; want %s", sample, got, want)
		}
	}
	if got := metric(page, "klaxon_timeline_events_total"); got == "absent" || got == "0" {
		t.Errorf("klaxon_timeline_events_total = %s after a declaration", got)
	}
	if !strings.Contains(page, "go_goroutines") || !strings.Contains(page, "# TYPE klaxon_timeline_events_total counter") {
		t.Errorf("/metrics lacks runtime metrics or types:\n%.2000s", page)
	}
	if live, _ := strconv.ParseFloat(metric(page, "go_gc_heap_live_bytes"), 64); live < 1<<20 {
		t.Errorf("go_gc_heap_live_bytes = %s; want the live heap (over 1 MB in a running klaxon)", metric(page, "go_gc_heap_live_bytes"))
	}
	if strings.Contains(page, fake.BotToken) || strings.Contains(page, fake.AppToken) {
		t.Error("/metrics shows a token")
	}

	// A dropped socket: not ready until Slack is back, then one reconnect.
	fake.DropConnection()
	k.waitFor("klaxon to reconnect", func() bool {
		_, page := get(t, base+"/metrics")
		return metric(page, `klaxon_chat_reconnects_total{platform="slack"}`) == "1"
	})
	if status, body := get(t, base+"/readyz"); status != 200 {
		t.Errorf("/readyz = %d %s after the reconnect", status, body)
	}
	k.stop()
}

func TestSecretsNeverReachTheLogs(t *testing.T) {
	secrets := map[string]string{
		"alert token": "am-secret-token-AAAA", "grafana password": "grafana-password-CCCC", "grafana hmac": "grafana-hmac-secret-BBBB",
		"api token": "api-read-token-DDDD", "api admin token": "api-admin-token-EEEE", "hook secret": "hook-signing-secret-FFFF",
		"heartbeat token": "heartbeat-token-GGGG",
	}
	hookHits := make(chan struct{}, 100)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hookHits <- struct{}{}
		w.WriteHeader(500) // failures get logged: they must not carry the secret
	}))
	defer receiver.Close()
	fake := newFake(t)
	k := runKlaxon(t, `
alerts:
  sources:
    - {name: alertmanager, token: `+secrets["alert token"]+`}
    - {name: grafana, username: grafana, password: `+secrets["grafana password"]+`, hmac_secret: `+secrets["grafana hmac"]+`}
api:
  token: `+secrets["api token"]+`
  admin_token: `+secrets["api admin token"]+`
hooks:
  - {id: tickets, url: "`+receiver.URL+`", events: ["*"], secret: `+secrets["hook secret"]+`}
heartbeats:
  - {name: etl, interval: 1h, token: `+secrets["heartbeat token"]+`}
`, env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "klaxon.db"), "KLAXON_SLACK_APP_TOKEN": fake.AppToken,
		"KLAXON_SLACK_BOT_TOKEN": fake.BotToken, "KLAXON_SLACK_API_URL": fake.URL(), "KLAXON_SLACK_ANNOUNCE_CHANNEL": "C0INCIDENTS"})
	k.waitFor(fake, "klaxon to connect", fake.Connected)
	base := "http://" + k.httpAddr()

	// Right and wrong credentials on every authenticated endpoint.
	call := func(method, path, token, body string) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for name, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s %s answers with the %s", method, path, name)
			}
		}
		return resp.StatusCode
	}
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/alerts/alertmanager", "wrong", `{}`, 401},
		{"POST", "/alerts/alertmanager", secrets["alert token"], `{"version":"4"}`, 400},
		{"POST", "/alerts/grafana", secrets["grafana password"], `{}`, 401},
		{"GET", "/api/v1/incidents", "wrong", "", 401},
		{"GET", "/api/v1/incidents", secrets["api token"], "", 200},
		{"GET", "/api/v1/backup", secrets["api token"], "", 403},
		{"POST", "/heartbeat/etl", "wrong", "", 401},
		{"POST", "/heartbeat/etl", secrets["heartbeat token"], "", 200},
		{"GET", "/metrics", "", "", 200},
		{"GET", "/status", "", "", 200},
	} {
		if got := call(c.method, c.path, c.token, c.body); got != c.want {
			t.Errorf("%s %s = %d; want %d", c.method, c.path, got, c.want)
		}
	}
	// A declaration makes the hook fire (and fail, and log it).
	if _, ok := fake.Ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "DB down" sev:2`), wait); !ok {
		t.Fatal("the declaration was not acknowledged")
	}
	select {
	case <-hookHits:
	case <-time.After(wait):
		t.Fatalf("the hook was never called; logs:\n%s", k.logs)
	}
	k.stop()
	logs := k.logs.String()
	secrets["slack bot token"], secrets["slack app token"] = fake.BotToken, fake.AppToken
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the logs show the %s", name)
		}
	}
	if !strings.Contains(logs, `"destination":"hook:`) || !strings.Contains(logs, "job will be tried again") {
		t.Errorf("the failed hook was not logged; the check above proves little:\n%s", logs)
	}
}
