package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
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
	if status, body := get(t, base+"/readyz"); status != 200 {
		t.Fatalf("/readyz = %d %s with Slack connected", status, body)
	}

	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "DB down" sev:2`))
	k.waitFor("the incident channel", func() bool { return len(fake.Channels()) == 1 })
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
