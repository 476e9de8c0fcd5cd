//go:build chaos

package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// slackOutage stands between klaxon and the fake Slack's Web API on a
// fixed 127.0.0.1 port: it forwards, refuses connections (the port is
// closed), or answers every call with a 503, as a Slack outage does.
type slackOutage struct {
	t     *testing.T
	addr  string
	proxy *httputil.ReverseProxy

	mu      sync.Mutex
	srv     *http.Server
	failing bool
}

func newSlackOutage(t *testing.T, upstream string) *slackOutage {
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &slackOutage{t: t, addr: ln.Addr().String(), proxy: httputil.NewSingleHostReverseProxy(u)}
	o.serve(ln)
	t.Cleanup(func() { o.refuse() })
	return o
}

// URL is the Web API's URL through the outage.
func (o *slackOutage) URL() string { return "http://" + o.addr + "/api/" }

func (o *slackOutage) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		failing := o.failing
		o.mu.Unlock()
		if failing {
			http.Error(w, "<html><body>Slack is having trouble</body></html>", http.StatusServiceUnavailable)
			return
		}
		o.proxy.ServeHTTP(w, r)
	})}
	o.mu.Lock()
	o.srv = srv
	o.mu.Unlock()
	go srv.Serve(ln)
}

// refuse closes the port: connections are refused.
func (o *slackOutage) refuse() {
	o.mu.Lock()
	srv := o.srv
	o.srv = nil
	o.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// fail opens the port again, answering 503s; up forwards again.
func (o *slackOutage) fail() { o.reopen(true) }
func (o *slackOutage) up()   { o.reopen(false) }

func (o *slackOutage) reopen(failing bool) {
	o.mu.Lock()
	o.failing = failing
	open := o.srv != nil
	o.mu.Unlock()
	if open {
		return
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		o.t.Fatalf("reopening %s: %v", o.addr, err)
	}
	o.serve(ln)
}

// TestChatDownForTwoMinutes: Slack refuses connections for a minute, then
// answers 503 for another. Alerts declared meanwhile page at once; when
// Slack is back, every incident gets its channel, pinned summary, topic and
// announcement, and the outbox empties.
func TestChatDownForTwoMinutes(t *testing.T) {
	fake := newFake(t)
	outage := newSlackOutage(t, fake.URL())
	tr := newTriggers(t, func() int { return 0 })
	k := outboxKlaxon(t, fake, tr, outage.URL(), env{"KLAXON_SLACK_ANNOUNCE_CHANNEL": "C0INCIDENTS"})
	k.waitFor("the connection", fake.Connected)
	base := "http://" + k.httpAddr()
	declared := 0
	declare := func(phase string) {
		t.Helper()
		declared++
		body := fmt.Sprintf(`{"title":"Outage %d","severity":"SEV1","service":"payments","dedup_key":"down-%d","status":"firing"}`, declared, declared)
		if status := postGenericAlert(t, base, body); status/100 != 2 {
			t.Fatalf("alert intake while Slack %s = %d", phase, status)
		}
		start := time.Now()
		if !fake.WaitFor(5*time.Second, func() bool { return tr.count() == declared }) {
			t.Fatalf("INC-%d was not paged within 5 s while Slack %s; logs:\n%.4000s", declared, phase, k.logs)
		}
		t.Logf("INC-%d paged %v after its alert while Slack %s", declared, time.Since(start).Round(time.Millisecond), phase)
	}

	phase := time.Minute // CHATDOWN_PHASE shortens it for a quick look
	if d, err := time.ParseDuration(os.Getenv("CHATDOWN_PHASE")); err == nil {
		phase = d
	}
	outage.refuse()
	fake.DropConnection()
	for range 3 {
		declare("refuses connections")
		time.Sleep(phase / 3)
	}
	outage.fail()
	for range 3 {
		declare("answers 503")
		time.Sleep(phase / 3)
	}
	outage.up()
	back := time.Now()
	complete := func() bool {
		if len(fake.Messages("C0INCIDENTS")) < declared {
			return false
		}
		for i := 1; i <= declared; i++ {
			c, ok := fake.ChannelByName(fmt.Sprintf("inc-%d-outage-%d", i, i))
			if !ok || len(c.Pins) != 1 || !strings.HasPrefix(c.Topic, fmt.Sprintf("INC-%d ·", i)) {
				return false
			}
		}
		_, page := get(t, base+"/metrics")
		return metric(page, `klaxon_jobs{destination="slack",state="pending"}`) == "0" && fake.Connected()
	}
	if !fake.WaitFor(5*time.Minute, complete) {
		t.Fatalf("5 min after Slack came back: %d channels, %d announcements; logs:\n%.6000s", len(fake.Channels()), len(fake.Messages("C0INCIDENTS")), k.logs)
	}
	if n := len(fake.Channels()); n != declared {
		t.Errorf("%d channels for %d incidents", n, declared)
	}
	if n := len(fake.Messages("C0INCIDENTS")); n != declared {
		t.Errorf("%d announcements for %d incidents", n, declared)
	}
	if failed := metric(getBody(t, base+"/metrics"), `klaxon_jobs{destination="slack",state="failed"}`); failed != "0" {
		t.Errorf("%s chat jobs failed for good", failed)
	}
	if os.Getenv("CHATDOWN_LOGS") != "" {
		t.Logf("logs:\n%s", k.logs)
	}
	t.Logf("Slack down 2 min (1 min refused, 1 min 503): %d incidents paged at once; their chat work done %v after Slack was back",
		declared, time.Since(back).Round(time.Second))
}

func getBody(t *testing.T, u string) string {
	_, body := get(t, u)
	return body
}
