package webui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/insights"
	"github.com/klaxon-bot/klaxon/commands/oncall"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// public sees every public incident: the access rule itself is the
// lifecycle's, tested there.
type public struct{}

func (public) MayAccess(_ context.Context, inc *bot.Incident, _ bot.Actor) bool { return !inc.Private }

func (public) SummaryFields(context.Context, *bot.Incident) []bot.Field { return nil }

// benchUI is the console on a bbolt store with a signed-in alice; it
// returns the cookie to send.
func benchUI(b *testing.B) (*UI, *bolt.Store, *http.Cookie) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "k.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	u, err := New(Config{PublicURL: "https://klaxon.example.com", Key: []byte("k"), People: bot.People{{ID: "alice", Name: "Alice"}},
		Severities: bot.DefaultSeverities(), Store: s, Incidents: public{}, Clock: bot.SystemClock{}, Log: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	secret := random(32)
	now := time.Now()
	sess := &bot.Session{ID: hashSecret(secret), Person: "alice", CSRF: "c", Start: now, Seen: now}
	if err := s.Update(context.Background(), func(tx bot.Tx) error { return tx.PutSession(sess) }); err != nil {
		b.Fatal(err)
	}
	return u, s, &http.Cookie{Name: sessionCookie, Value: secret}
}

// serveTimes serves GET path n times and returns the p50 and p99 of the
// server's time for it.
func serveTimes(b *testing.B, u *UI, cookie *http.Cookie, path string) {
	mux := http.NewServeMux()
	u.Routes(mux)
	var lat []time.Duration
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.AddCookie(cookie)
		w := httptest.NewRecorder()
		start := time.Now()
		mux.ServeHTTP(w, req)
		lat = append(lat, time.Since(start))
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkIncidentList10k serves the first page of the incident list
// with 10,000 incidents in the store. Goal: p99 < 100 ms.
func BenchmarkIncidentList10k(b *testing.B) {
	u, s, cookie := benchUI(b)
	sev := bot.DefaultSeverities()[1]
	for batch := 0; batch < 10; batch++ {
		err := s.Update(context.Background(), func(tx bot.Tx) error {
			for i := range 1000 {
				inc := &bot.Incident{Title: fmt.Sprintf("Incident %d", batch*1000+i), Severity: sev, Status: bot.StatusResolved, Platform: bot.PlatformConsole,
					Service: "payments", DeclaredAt: time.Now()}
				if err := tx.CreateIncident(inc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("first-page", func(b *testing.B) { serveTimes(b, u, cookie, "/app/incidents") })
	b.Run("search", func(b *testing.B) { serveTimes(b, u, cookie, "/app/incidents?q=incident+99&status=resolved") })
	b.Run("search-no-match", func(b *testing.B) { serveTimes(b, u, cookie, "/app/incidents?q=nothing+like+this") })
}

// BenchmarkIncident100kEvents serves one incident whose timeline has
// 100,000 events: its page shows the first 500. Goal: < 50 ms.
func BenchmarkIncident100kEvents(b *testing.B) {
	u, s, cookie := benchUI(b)
	inc := &bot.Incident{Title: "Long one", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen, Platform: bot.PlatformConsole, DeclaredAt: time.Now()}
	if err := s.Update(context.Background(), func(tx bot.Tx) error { return tx.CreateIncident(inc) }); err != nil {
		b.Fatal(err)
	}
	for batch := 0; batch < 20; batch++ {
		evs := make([]bot.Event, 5000)
		for i := range evs {
			evs[i] = bot.NewEvent(bot.EventMessage, bot.User{ID: "alice", Name: "Alice"}, time.Now(), fmt.Sprintf("message %d of the bridge call notes", batch*5000+i))
		}
		if err := s.Update(context.Background(), func(tx bot.Tx) error { return tx.AppendEvents(inc.ID, evs...) }); err != nil {
			b.Fatal(err)
		}
	}
	serveTimes(b, u, cookie, fmt.Sprintf("/app/incidents/%d", inc.Number))
}

// BenchmarkLiveConnections opens 500 live-update streams and reports what
// they cost in memory (heap and goroutine stacks) and how long telling
// them all of a change takes. Goal: 500 connections < 50 MB.
func BenchmarkLiveConnections(b *testing.B) {
	u, _, cookie := benchUI(b)
	mux := http.NewServeMux()
	u.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	const conns = 500
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var bodies []io.ReadCloser
		client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: conns}}
		for range conns {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/app/events", nil)
			req.AddCookie(cookie)
			resp, err := client.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("stream: %v %v", resp, err)
			}
			bodies = append(bodies, resp.Body)
		}
		for u.live.open() < conns {
			time.Sleep(time.Millisecond)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.StartTimer()
		start := time.Now()
		u.live.Follow(nil, bot.Change{})
		buf := make([]byte, 256)
		for _, body := range bodies {
			for !strings.Contains(readSome(body, buf), "event: changed") {
			}
		}
		told := time.Since(start)
		b.StopTimer()
		// Both ends are in this process: the server's share is about half.
		mb := float64((after.HeapInuse+after.StackInuse)-(before.HeapInuse+before.StackInuse)) / (1 << 20)
		b.ReportMetric(mb, "MB-both-ends")
		b.ReportMetric(float64(told.Milliseconds()), "ms-to-tell-all")
		for _, body := range bodies {
			body.Close()
		}
		client.CloseIdleConnections()
		b.StartTimer()
	}
}

func readSome(r io.Reader, buf []byte) string {
	n, _ := r.Read(buf)
	return string(buf[:n])
}

// BenchmarkCalendarMonth5Layers1000Overrides serves a schedule's month
// view: 5 layers (rotations and business-hours restrictions) and 1,000
// overrides in the store. Goal: < 50 ms server time.
func BenchmarkCalendarMonth5Layers1000Overrides(b *testing.B) {
	u, s, cookie := benchUI(b)
	ctx := context.Background()
	berlin, _ := time.LoadLocation("Europe/Berlin")
	people := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	weekdays := [7]bool{false, true, true, true, true, true, false}
	sched := &bot.Schedule{ID: "primary", Service: "payments", Location: berlin}
	for i := range 5 {
		l := bot.Layer{Name: fmt.Sprintf("layer %d", i+1), Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1 + i, Start: bot.DateOf(time.Date(2026, 1, 5, 0, 0, 0, 0, berlin)),
			Handoff: bot.TimeOfDay(9 * 60), Participants: people[i%3 : i%3+3]}}
		if i%2 == 1 {
			l.Restrictions = []bot.Restriction{{Days: weekdays, From: bot.TimeOfDay(9 * 60), To: bot.TimeOfDay(17 * 60)}}
		}
		sched.Layers = append(sched.Layers, l)
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, berlin)
	err := s.Update(ctx, func(tx bot.Tx) error {
		for i := range 1000 {
			ov := &bot.Override{ID: bot.NewID(), Schedule: "primary", Person: people[i%len(people)], Start: start.Add(time.Duration(i) * 43 * time.Minute), End: start.Add(time.Duration(i)*43*time.Minute + 2*time.Hour)}
			if err := tx.AddOnCallChange(&bot.OnCallChange{ID: bot.NewID(), Kind: bot.ChangeOverride, Author: bot.User{ID: "alice"}, At: start, Override: ov}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var ps bot.People
	for _, p := range people {
		ps = append(ps, bot.Person{ID: p, Name: p})
	}
	oc, err := oncall.New(ctx, s, bot.SystemClock{}, zerolog.Nop(), oncall.Config{Schedules: []*bot.Schedule{sched}, People: ps})
	if err != nil {
		b.Fatal(err)
	}
	u.cfg.OnCall, u.cfg.People = oc, append(ps, bot.Person{ID: "alice", Name: "Alice"})
	serveTimes(b, u, cookie, "/app/oncall/primary?view=month&date=2026-12-15")
}

// BenchmarkInsights10k computes and draws the insights page over 10,000
// incidents (each paged once). Goal: < 200 ms server time.
func BenchmarkInsights10k(b *testing.B) {
	u, s, cookie := benchUI(b)
	ctx := context.Background()
	sevs := bot.DefaultSeverities()
	now := time.Now()
	for batch := range 10 {
		err := s.Update(ctx, func(tx bot.Tx) error {
			for i := range 1000 {
				n := batch*1000 + i
				at := now.Add(-time.Duration(n) * 12 * time.Minute)
				inc := &bot.Incident{Title: fmt.Sprint("Incident ", n), Severity: sevs[n%len(sevs)], Status: bot.StatusResolved, Platform: bot.PlatformConsole,
					Service: "payments", DeclaredAt: at, AcknowledgedAt: at.Add(time.Duration(n%30) * time.Minute), ResolvedAt: at.Add(time.Duration(n%300) * time.Minute)}
				if err := tx.CreateIncident(inc); err != nil {
					return err
				}
				pg := &bot.Page{ID: bot.NewID(), IncidentID: inc.ID, Incident: inc.Key(), Status: bot.PageResolved, Created: at,
					Paged: []bot.Paged{{Person: "alice", At: at}}}
				if err := tx.PutPage(pg); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	u.cfg.Insights = benchInsights{s}
	serveTimes(b, u, cookie, "/app/insights")
}

// benchInsights is what cmd/klaxon wires: package insights over the store.
type benchInsights struct{ s *bolt.Store }

func (bi benchInsights) Report(ctx context.Context, q url.Values, visible func(*bot.Incident) bool) (*bot.InsightsReport, error) {
	f, err := insights.ParseFilter(q, time.Now())
	if err != nil {
		return nil, err
	}
	return insights.Compute(ctx, bi.s, bot.People{{ID: "alice", Name: "Alice"}}, f, visible, time.Now())
}

func (bi benchInsights) CSV(r *bot.InsightsReport, chart string) ([][]string, error) {
	return insights.CSV(r, chart, []string{"SEV1", "SEV2", "SEV3", "SEV4"})
}
