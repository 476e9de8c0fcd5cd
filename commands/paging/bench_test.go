package paging_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/bot/pager"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/paging"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// BenchmarkOutbox1000Pages triggers 1,000 pages at once and runs the
// engine until a local webhook receiver has every one: it checks each
// arrived exactly once and reports throughput, the time from the triggers
// to each delivery (p50, p99) and how many connections the pager dialled
// (klaxon's own outbound client, as klaxon sends pages).
func BenchmarkOutbox1000Pages(b *testing.B) {
	const pages = 1000
	for b.Loop() {
		b.StopTimer()
		var mu sync.Mutex
		arrived := map[string]time.Time{}
		dup := 0
		all := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k := r.Header.Get("Idempotency-Key")
			mu.Lock()
			if _, seen := arrived[k]; seen {
				dup++
			} else if arrived[k] = time.Now(); len(arrived) == pages {
				close(all)
			}
			mu.Unlock()
			w.WriteHeader(202)
		}))
		var dials atomic.Int64 // connections the receiver accepted
		srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
			if st == http.StateNew {
				dials.Add(1)
			}
		}
		s, err := bolt.Open(filepath.Join(b.TempDir(), "k.db"), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		clock := bot.SystemClock{}
		inc := commands.New(s, []bot.Chat{console.New(&bytes.Buffer{})}, clock, zerolog.Nop(), commands.Config{})
		wake := inc.Wake()
		p := paging.New(s, inc, nil, clock, zerolog.Nop(), paging.Config{Wake: wake,
			Pagers: map[string]bot.Sender{"hook": &pager.Webhook{URL: srv.URL, Secret: "s", Client: bot.OutboundClient(10 * time.Second)}}})
		inc.Outbox().Handle(bot.OpPage, p)
		stop := inc.Outbox().Go(10 * time.Millisecond)
		// Escalation steps fire as klaxon's scheduler fires them: when a
		// change tells it timers are due, and on a ticker otherwise.
		tctx, stopTimers := context.WithCancel(context.Background())
		timersDone := make(chan struct{})
		go func() {
			defer close(timersDone)
			bot.Every(tctx, clock, time.Second, wake.TimersDue(), p.Tick)
		}()
		pol := bot.Policy{ID: "bench", Steps: []bot.Step{{Targets: []bot.Target{{Kind: bot.TargetPerson, ID: "alice"}}, Delay: time.Hour}}}
		ctx := context.Background()
		var incs []*bot.Incident
		for range pages {
			in := &bot.Incident{Title: "bench", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen, Platform: bot.PlatformConsole}
			if err := s.Update(ctx, func(tx bot.Tx) error { return tx.CreateIncident(in) }); err != nil {
				b.Fatal(err)
			}
			incs = append(incs, in)
		}
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for _, in := range incs {
			wg.Go(func() {
				if _, err := p.Trigger(ctx, in, pol); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		select {
		case <-all:
		case <-time.After(time.Minute):
			mu.Lock()
			n := len(arrived)
			mu.Unlock()
			b.Fatalf("only %d of %d pages arrived", n, pages)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		stopTimers()
		<-timersDone
		stop()
		if dup != 0 {
			b.Fatalf("%d pages arrived twice", dup)
		}
		var lat []time.Duration
		for _, at := range arrived {
			lat = append(lat, at.Sub(start))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(pages)/elapsed.Seconds(), "pages/s")
		b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
		b.ReportMetric(float64(dials.Load()), "dials")
		srv.Close()
		s.Close()
		b.StartTimer()
	}
}
