package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/store/pgtest"
)

// BenchmarkDeclareToFirstPage measures, through the real program and the
// fake Slack, the time from a /incident declare envelope to the pager
// receiving the first step's trigger, with the Web API answering at once,
// in 1 s, with 429s on channel creation and posts, and on PostgreSQL.
// Paging does not wait for chat, so the first three should not differ
// (goal: p99 < 1 s).
func BenchmarkDeclareToFirstPage(b *testing.B) {
	for _, mode := range []string{"webapi=0s", "webapi=1s", "webapi=429", "store=postgres", "via=api"} {
		b.Run(mode, func(b *testing.B) {
			fake := newFake(b)
			tr := newTriggers(b, func() int { return 0 })
			db := filepath.Join(b.TempDir(), "k.db")
			e := env{"KLAXON_STORE_PATH": db,
				"KLAXON_SLACK_APP_TOKEN": fake.AppToken, "KLAXON_SLACK_BOT_TOKEN": fake.BotToken, "KLAXON_SLACK_API_URL": fake.URL()}
			if mode == "store=postgres" {
				e["KLAXON_STORE_DRIVER"], e["KLAXON_STORE_POSTGRES_DSN"] = "postgres", pgtest.NewDatabase(b)
			}
			k := &slackKlaxon{fake: fake, db: db, running: runKlaxon(b, fmt.Sprintf(outboxConfig, tr.srv.URL), e)}
			k.waitFor("the connection", fake.Connected)
			switch mode {
			case "webapi=1s":
				fake.SetDelay(time.Second)
			case "webapi=429":
				fake.RateLimit("conversations.create", 1<<20, 5)
				fake.RateLimit("chat.postMessage", 1<<20, 5)
			}
			var lat []time.Duration
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if mode == "via=api" {
					// The write API: declared when it answers 201.
					req, _ := http.NewRequest("POST", "http://"+k.httpAddr()+"/api/v1/incidents",
						strings.NewReader(fmt.Sprintf(`{"title": "Bench %d", "severity": "SEV1", "service": "payments"}`, i)))
					req.Header.Set("Authorization", "Bearer outbox-api-write-token-0123")
					resp, err := http.DefaultClient.Do(req)
					if err != nil || resp.StatusCode != http.StatusCreated {
						b.Fatalf("API declaration %d: %v %v", i, resp, err)
					}
					resp.Body.Close()
				} else {
					fake.SlashCommand(alice, "C0GENERAL", "/incident", fmt.Sprintf(`declare "Bench %d" sev:1 service:payments`, i))
				}
				if !fake.WaitFor(10*time.Second, func() bool { return tr.count() == i+1 }) {
					b.Fatalf("declaration %d was not paged", i)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
			fake.SetDelay(0)
			k.stop()
		})
	}
}
