package slack_test

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
	"github.com/klaxon-bot/klaxon/bot/slack"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// BenchmarkSlashCommandAck measures how long a slash-command envelope waits
// for its acknowledgement: from the fake's socket write to its read of the
// ack, through the real slack-go client, adapter, commands and store. Each
// command declares an incident, whose Web API calls run after the ack; the
// sub-benchmarks slow every Web API answer down to show the ack does not
// wait for them.
func BenchmarkSlashCommandAck(b *testing.B) {
	for _, delay := range []time.Duration{0, 200 * time.Millisecond} {
		b.Run(fmt.Sprintf("webapi=%s", delay), func(b *testing.B) {
			f := slackfake.New(b, map[string]string{"U0ALICE": "alice"})
			defer f.Close()
			s, err := bolt.Open(filepath.Join(b.TempDir(), "k.db"), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			log := zerolog.New(io.Discard)
			a := slack.New(slack.Config{AppToken: f.AppToken, BotToken: f.BotToken, APIURL: f.URL(), Log: log})
			mux := bot.NewMux(log)
			commands.New(s, []bot.Chat{a}, bot.SystemClock{}, log, commands.Config{}).Register(mux)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx, mux) }()
			if !f.WaitFor(10*time.Second, f.Connected) {
				b.Fatal("adapter did not connect")
			}
			f.SetDelay(delay)

			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				env := f.SlashCommand("U0ALICE", "C0GENERAL", "/incident", fmt.Sprintf("declare incident %d", i))
				if _, ok := f.Ack(env, 10*time.Second); !ok {
					b.Fatalf("envelope %s not acknowledged", env)
				}
				d, _ := f.AckLatency(env)
				lat = append(lat, d)
			}
			b.StopTimer()
			f.SetDelay(0) // let the queued background work drain quickly
			cancel()
			<-done // waits for the declarations still talking to the slow Web API
			slices.Sort(lat)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
