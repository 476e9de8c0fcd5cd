package web_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
)

type feeds map[string]string // kind:id:token → body

func (f feeds) Feed(kind, id, token string, now time.Time, weeks int) ([]byte, bool) {
	body, ok := f[kind+":"+id+":"+token]
	return []byte(body), ok
}

func TestFeedRoutes(t *testing.T) {
	srv, err := web.Listen(web.Config{Addr: "127.0.0.1:0", Feeds: feeds{"schedule:db:t1": "BEGIN:VCALENDAR db", "person:bob:t2": "BEGIN:VCALENDAR bob"}, Clock: bot.SystemClock{}, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	base := "http://" + srv.Addr()
	tests := []struct {
		path   string
		status int
		body   string
	}{
		{"/oncall/db.ics?token=t1", 200, "BEGIN:VCALENDAR db"},
		{"/oncall/person/bob.ics?token=t2", 200, "BEGIN:VCALENDAR bob"},
		{"/oncall/db.ics?token=wrong", 404, ""},
		{"/oncall/db.ics", 404, ""},
		{"/oncall/nope.ics?token=t1", 404, ""},
		{"/oncall/db?token=t1", 404, ""},
		{"/oncall/person/bob.ics?token=t1", 404, ""},
		{"/healthz", 200, "ok\n"},
	}
	for _, tt := range tests {
		resp, err := http.Get(base + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || (tt.body != "" && string(body) != tt.body) {
			t.Errorf("GET %s = %d %q; want %d %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
		}
		if tt.status == 200 && tt.path != "/healthz" && resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" {
			t.Errorf("GET %s: content type %q", tt.path, resp.Header.Get("Content-Type"))
		}
	}
	if _, err := web.Listen(web.Config{Addr: srv.Addr(), Clock: bot.SystemClock{}, Log: zerolog.Nop()}); err == nil {
		t.Error("a second server on the same address started")
	}
}

func TestReadyz(t *testing.T) {
	var down atomic.Pointer[error]
	ready := func() error {
		if err := down.Load(); err != nil {
			return *err
		}
		return nil
	}
	srv := httptest.NewServer(web.Handler(web.Config{Ready: ready, Clock: bot.SystemClock{}, Log: zerolog.Nop()}))
	defer srv.Close()
	check := func(want int, body string) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || !strings.Contains(string(b), body) {
			t.Errorf("/readyz = %d %q; want %d %q", resp.StatusCode, b, want, body)
		}
	}
	check(200, "ready")
	err := errors.New("slack is not connected")
	down.Store(&err)
	check(503, "not ready: slack is not connected")
}

// /metrics is open unless a token is configured; then it wants it.
func TestMetricsToken(t *testing.T) {
	snap := func(context.Context) (web.Snapshot, error) { return web.Snapshot{}, nil }
	open := httptest.NewServer(web.Handler(web.Config{Metrics: snap, Clock: bot.SystemClock{}, Log: zerolog.Nop()}))
	defer open.Close()
	closed := httptest.NewServer(web.Handler(web.Config{Metrics: snap, MetricsToken: "metrics-token-0123", Clock: bot.SystemClock{}, Log: zerolog.Nop()}))
	defer closed.Close()
	get := func(url, token string) int {
		req, _ := http.NewRequest("GET", url+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		url, token string
		want       int
	}{{open.URL, "", 200}, {closed.URL, "", 401}, {closed.URL, "wrong", 401}, {closed.URL, "metrics-token-0123", 200}} {
		if got := get(c.url, c.token); got != c.want {
			t.Errorf("GET /metrics with %q = %d; want %d", c.token, got, c.want)
		}
	}
}

// Slow and idle clients are let go: a body that never comes, an idle
// keep-alive, and a flood of connections that say nothing, while /healthz
// keeps answering.
func TestSlowAndIdleClientsAreLetGo(t *testing.T) {
	srv, err := web.Listen(web.Config{Addr: "127.0.0.1:0", Clock: bot.SystemClock{}, Log: zerolog.Nop(),
		Limits: web.Limits{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond, Idle: 300 * time.Millisecond, MaxConns: 20}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// closedWithin reports whether the server closed c within d.
	closedWithin := func(c net.Conn, d time.Duration) bool {
		c.SetReadDeadline(time.Now().Add(d))
		_, err := io.Copy(io.Discard, c)
		return err == nil // EOF: closed by the server; a timeout is an error
	}
	slow := dial()
	defer slow.Close()
	io.WriteString(slow, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	if !closedWithin(slow, 3*time.Second) {
		t.Error("a request whose body never comes was held over 3 s")
	}
	idle := dial()
	defer idle.Close()
	io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if !closedWithin(idle, 3*time.Second) {
		t.Error("an idle keep-alive was held over 3 s")
	}
	var flood []net.Conn
	for range 60 {
		flood = append(flood, dial())
	}
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	start := time.Now()
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatalf("/healthz under a flood of 60 silent connections (20 allowed): %v", err)
	}
	resp.Body.Close()
	if took := time.Since(start); resp.StatusCode != 200 || took > 3*time.Second {
		t.Errorf("/healthz under the flood: %d after %v", resp.StatusCode, took)
	}
}

// One client holding many idle connections gets its share and no more:
// another client's /healthz is answered at once.
func TestOneClientCannotTakeEverySlot(t *testing.T) {
	srv, err := web.Listen(web.Config{Addr: "127.0.0.1:0", Clock: bot.SystemClock{}, Log: zerolog.Nop(),
		Limits: web.Limits{ReadHeader: 10 * time.Second, MaxConns: 20, MaxConnsPerClient: 5}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	var hog []net.Conn
	defer func() {
		for _, c := range hog {
			c.Close()
		}
	}()
	for range 40 { // silent connections from 127.0.0.1: past 5, closed as they come
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		hog = append(hog, c)
	}
	closed := 0
	for _, c := range hog[5:] {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	if closed != 35 {
		t.Errorf("%d of the 35 connections past the client's share were closed", closed)
	}
	other := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
	start := time.Now()
	resp, err := other.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		t.Fatalf("/healthz from another client while one holds its share: %v", err)
	}
	resp.Body.Close()
	if took := time.Since(start); resp.StatusCode != 200 || took > time.Second {
		t.Errorf("/healthz from another client: %d after %v", resp.StatusCode, took)
	}
}
