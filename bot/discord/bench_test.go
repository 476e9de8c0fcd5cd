package discord_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// BenchmarkInteractionFirstResponse measures the time from the gateway
// dispatching an interaction to the fake receiving its first response,
// through the real discordgo client, adapter, commands and store, with
// every REST answer (not the interaction callback) delayed by 200 ms.
// "declare" does slow REST work, so klaxon defers; "list" answers directly.
func BenchmarkInteractionFirstResponse(b *testing.B) {
	for _, sub := range []string{"declare", "list"} {
		b.Run(sub+"/rest=200ms", func(b *testing.B) {
			f := discordfake.New(b, map[string]string{alice: "alice"})
			defer f.Close()
			s, err := bolt.Open(filepath.Join(b.TempDir(), "k.db"), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			a := newAdapter(b, f)
			log := zerolog.New(io.Discard)
			mux := bot.NewMux(log)
			commands.New(s, []bot.Chat{a}, bot.SystemClock{}, log, commands.Config{}).Register(mux)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx, mux) }()
			if !f.WaitFor(10*time.Second, func() bool { return f.Connected() && len(f.Commands()) > 0 }) {
				b.Fatal("adapter did not connect")
			}
			f.SetDelay(200 * time.Millisecond)

			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				var opts []discordfake.Option
				if sub == "declare" {
					opts = append(opts, discordfake.Option{Name: "title", Type: 3, Value: fmt.Sprintf("incident %d", i)})
				}
				id := f.Command(alice, discordfake.GeneralID, "incident", sub, opts...)
				var d time.Duration
				if !f.WaitFor(10*time.Second, func() bool { var ok bool; d, ok = f.FirstResponseLatency(id); return ok }) {
					b.Fatalf("interaction %s got no response", id)
				}
				lat = append(lat, d)
			}
			b.StopTimer()
			f.SetDelay(0) // let the queued background work drain quickly
			cancel()
			<-done
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
