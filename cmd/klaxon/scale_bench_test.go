package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/bot/web"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/alerts"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// BenchmarkTenThousandIncidents: what reads every incident, with 10,000
// in bbolt (9,950 resolved over a year, 50 open), each paged once:
// /metrics, /incident
// list, /incident stats, and the API's first page.
func BenchmarkTenThousandIncidents(b *testing.B) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "k.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)
	sevs := bot.DefaultSeverities()
	err = s.Update(context.Background(), func(tx bot.Tx) error {
		for i := range 10_000 {
			at := t0.Add(time.Duration(i) * 52 * time.Minute)
			inc := &bot.Incident{ID: bot.NewID(), Title: fmt.Sprintf("Incident %d", i), Severity: sevs[i%len(sevs)], Status: bot.StatusResolved,
				Platform: bot.PlatformConsole, Service: fmt.Sprintf("svc%d", i%20), DeclaredAt: at, UpdatedAt: at, DeclaredBy: bot.User{ID: "alice"},
				AcknowledgedAt: at.Add(3 * time.Minute), ResolvedAt: at.Add(40 * time.Minute)}
			if i >= 9_950 {
				inc.Status, inc.AcknowledgedAt, inc.ResolvedAt = bot.StatusOpen, time.Time{}, time.Time{}
			}
			if err := tx.CreateIncident(inc); err != nil {
				return err
			}
			// Each was paged once, by two deliveries.
			pg := &bot.Page{ID: bot.NewID(), IncidentID: inc.ID, Incident: inc.Key(), Severity: inc.Severity, Status: bot.PageAcknowledged, Created: at}
			if err := tx.PutPage(pg); err != nil {
				return err
			}
			for _, k := range []string{":a", ":b"} {
				if err := tx.PutDelivery(&bot.Delivery{PageID: pg.ID, Key: fmt.Sprint(i, k), Pager: "hook", Person: "alice", Status: bot.DeliverySent}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	now := t0.Add(10_000 * 52 * time.Minute)
	clock := bot.NewFakeClock(now)
	ctx := context.Background()
	report := func(b *testing.B, lat []time.Duration) {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	timed := func(b *testing.B, fn func()) {
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			fn()
			lat = append(lat, time.Since(start))
		}
		report(b, lat)
	}

	b.Run("metrics", func(b *testing.B) {
		snap := snapshotter(s, nil, nil, clock, func() map[string]alerts.StormCount { return nil })
		timed(b, func() {
			if sn, err := snap(ctx); err != nil || len(sn.Incidents) == 0 {
				b.Fatalf("%+v %v", sn, err)
			}
		})
	})
	mux := bot.NewMux(zerolog.Nop())
	inc := commands.New(s, []bot.Chat{console.New(&discard{}, "general")}, clock, zerolog.Nop(), commands.Config{Severities: sevs, Wake: bot.NewWake()})
	inc.Register(mux)
	run := func(b *testing.B, line string) {
		timed(b, func() {
			resp, err := mux.Run(ctx, &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: "alice"}, Channel: bot.ChannelRef{ID: "general"}, Text: line, Time: now})
			if err != nil || resp == nil || resp.IsZero() {
				b.Fatalf("%s: %v %v", line, resp, err)
			}
		})
	}
	b.Run("incident-list", func(b *testing.B) { run(b, "/incident list") })
	b.Run("incident-list-all", func(b *testing.B) { run(b, "/incident list all") })
	b.Run("incident-stats", func(b *testing.B) { run(b, "/incident stats") })
	b.Run("api-list", func(b *testing.B) {
		h := web.Handler(web.Config{API: &web.API{Records: s, Tokens: []web.Token{{Name: "read", Secret: "bench-read-token-0123456", Scope: web.ScopeRead}}},
			Clock: clock, Log: zerolog.Nop()})
		timed(b, func() {
			req := httptest.NewRequest("GET", "/api/v1/incidents?limit=50", nil)
			req.Header.Set("Authorization", "Bearer bench-read-token-0123456")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
