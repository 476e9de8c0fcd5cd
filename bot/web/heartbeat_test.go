package web_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
)

type pinger struct {
	mu    sync.Mutex
	pings []string
	fail  bool
}

func (p *pinger) Known(name string) bool { return name == "backup" || name == "etl" }

func (p *pinger) Ping(ctx context.Context, name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return bot.Internal(errors.New("disk full"), "klaxon could not save the ping")
	}
	p.pings = append(p.pings, name)
	return nil
}

func TestHeartbeatEndpoint(t *testing.T) {
	p := &pinger{}
	srv := httptest.NewServer(web.Handler(web.Config{Clock: bot.SystemClock{}, Log: zerolog.Nop(),
		Heartbeats: &web.Heartbeats{Pinger: p, Tokens: map[string]string{"backup": "beat-token"}}}))
	defer srv.Close()
	for _, tt := range []struct {
		path   string
		header map[string][]string
		status int
		reason string
	}{
		{"/heartbeat/nosuch", nil, 404, "no heartbeat nosuch"},
		{"/heartbeat/backup", nil, 401, "missing or wrong bearer token"},
		{"/heartbeat/backup", hdr("Authorization", "Bearer nope"), 401, "missing or wrong bearer token"},
		{"/heartbeat/backup", hdr("Authorization", "Bearer beat-token"), 200, `"status":"ok"`},
		{"/heartbeat/etl", nil, 200, `"status":"ok"`}, // no token configured
	} {
		status, body := post(t, srv.URL+tt.path, "", tt.header)
		if status != tt.status || !strings.Contains(body, tt.reason) {
			t.Errorf("POST %s = %d %s; want %d %q", tt.path, status, body, tt.status, tt.reason)
		}
	}
	p.mu.Lock()
	if strings.Join(p.pings, ",") != "backup,etl" {
		t.Errorf("pings = %v", p.pings)
	}
	p.fail = true
	p.mu.Unlock()
	if status, body := post(t, srv.URL+"/heartbeat/etl", "", nil); status != 503 || strings.Contains(body, "disk full") {
		t.Errorf("failed ping = %d %s", status, body)
	}
}
