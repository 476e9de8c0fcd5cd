package paging_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/bot/notify"
	"github.com/klaxon-bot/klaxon/bot/notify/notifytest"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/paging"
	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/bolt"
	"github.com/klaxon-bot/klaxon/store/pg"
	"github.com/klaxon-bot/klaxon/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openStore opens bbolt or a fresh PostgreSQL database.
func openStore(b *testing.B, driver string) store.Backend {
	if driver == "postgres" {
		s, err := pg.Open(context.Background(), pgtest.NewDatabase(b))
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	s, err := bolt.Open(filepath.Join(b.TempDir(), "k.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// notifyRig is paging with ntfy and Twilio fakes as its providers and
// people, each with a push topic and a phone and rules for both at once.
func notifyRig(b *testing.B, s store.Backend, people int) (*paging.Paging, *commands.Incidents, *notifytest.Ntfy, *notifytest.Twilio, func()) {
	nt, tw := notifytest.NewNtfy(), notifytest.NewTwilio()
	client := bot.OutboundClient(20 * time.Second) // as klaxon's notifications send
	twc := &notify.Twilio{URL: tw.Server.URL, AccountSID: tw.AccountSID, Username: tw.AccountSID, Password: tw.AuthToken, From: tw.Numbers[0], Client: client}
	var ps bot.People
	for i := range people {
		ps = append(ps, bot.Person{ID: fmt.Sprintf("p%04d", i), Name: fmt.Sprint("P", i), Reach: bot.Reach{
			Contacts: []bot.Contact{{Method: bot.MethodPush, To: fmt.Sprintf("p%04d-pager", i), Verified: true}, {Method: bot.MethodSMS, To: fmt.Sprintf("+1415600%04d", i), Verified: true}},
			Rules:    []bot.Rule{{Method: bot.MethodPush}, {Method: bot.MethodSMS}}}})
	}
	clock := bot.SystemClock{}
	inc := commands.New(s, []bot.Chat{console.New(&bytes.Buffer{})}, clock, zerolog.Nop(), commands.Config{})
	p := paging.New(s, inc, nil, clock, zerolog.Nop(), paging.Config{People: ps, Notifiers: map[bot.Method]bot.Sender{
		bot.MethodPush: &notify.Ntfy{Server: nt.Server.URL, Client: client}, bot.MethodSMS: notify.SMS{Twilio: twc}}})
	inc.Outbox().Handle(bot.OpPage, p)
	stop := inc.Outbox().Go(10 * time.Millisecond)
	return p, inc, nt, tw, func() { stop(); nt.Close(); tw.Close() }
}

func newIncident(b *testing.B, s store.Backend) *bot.Incident {
	in := &bot.Incident{Title: "bench", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen, Platform: bot.PlatformConsole}
	if err := s.Update(context.Background(), func(tx bot.Tx) error { return tx.CreateIncident(in) }); err != nil {
		b.Fatal(err)
	}
	return in
}

// BenchmarkStepDueToFirstRequest measures the time from an escalation
// step falling due (the scheduler's tick) to the first provider request
// it makes (the push reaching ntfy), on bbolt and on PostgreSQL.
// Goal: p99 < 200 ms.
func BenchmarkStepDueToFirstRequest(b *testing.B) {
	for _, driver := range []string{"bbolt", "postgres"} {
		b.Run("store="+driver, func(b *testing.B) {
			s := openStore(b, driver)
			defer s.Close()
			p, _, nt, _, stop := notifyRig(b, s, 1)
			defer stop()
			ctx := context.Background()
			pol := bot.Policy{ID: "bench", Steps: []bot.Step{{Targets: []bot.Target{{Kind: bot.TargetPerson, ID: "p0000"}}, Delay: time.Hour}}}
			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				in := newIncident(b, s)
				pg, err := p.Trigger(ctx, in, pol)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				due := time.Now()
				p.Tick(ctx, pg.NextAt.Add(time.Millisecond))
				for len(nt.Pushes("p0000-pager")) < i+1 {
					if time.Since(due) > 10*time.Second {
						b.Fatalf("push %d never arrived", i)
					}
					time.Sleep(100 * time.Microsecond)
				}
				lat = append(lat, time.Since(due))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// Benchmark1000PeoplePushAndSMS pages 1,000 people at once (an alert
// storm: 1,000 incidents, each paging one person), each with a push and
// an SMS rule at once, and runs until ntfy and Twilio have all 2,000
// first notifications. Goal: within 10 s.
func Benchmark1000PeoplePushAndSMS(b *testing.B) {
	for _, driver := range []string{"bbolt", "postgres"} {
		b.Run("store="+driver, func(b *testing.B) { benchmarkPaged(b, driver, 1000, 1) })
	}
}

// BenchmarkTeamPage pages a team in one escalation step (one page, two
// notifications a person), for teams of 100, 400 and 1,000, on bbolt and
// on PostgreSQL: the time all are out should grow with the team, not
// with its square.
func BenchmarkTeamPage(b *testing.B) {
	for _, driver := range []string{"bbolt", "postgres"} {
		for _, n := range []int{100, 400, 1000} {
			b.Run(fmt.Sprintf("store=%s/people=%d", driver, n), func(b *testing.B) { benchmarkPaged(b, driver, n, n) })
		}
	}
}

// benchmarkPaged pages people, perPage of them on each page, on the
// store driver names.
func benchmarkPaged(b *testing.B, driver string, people, perPage int) {
	for b.Loop() {
		b.StopTimer()
		s := openStore(b, driver)
		p, _, nt, tw, stop := notifyRig(b, s, people)
		ctx := context.Background()
		var due time.Time
		for first := 0; first < people; first += perPage {
			var targets []bot.Target
			for i := first; i < first+perPage; i++ {
				targets = append(targets, bot.Target{Kind: bot.TargetPerson, ID: fmt.Sprintf("p%04d", i)})
			}
			pol := bot.Policy{ID: "bench", Steps: []bot.Step{{Targets: targets, Delay: time.Hour}}}
			pg, err := p.Trigger(ctx, newIncident(b, s), pol)
			if err != nil {
				b.Fatal(err)
			}
			due = pg.NextAt
		}
		b.StartTimer()
		start := time.Now()
		p.Tick(ctx, due.Add(time.Millisecond))
		for {
			pushes, texts := nt.Count(), len(tw.Sent("", false))
			if pushes == people && texts == people {
				break
			}
			if time.Since(start) > time.Minute {
				b.Fatalf("after a minute: %d pushes, %d texts of %d each", pushes, texts, people)
			}
			time.Sleep(10 * time.Millisecond)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(elapsed.Seconds(), "s-all-out")
		b.ReportMetric(float64(2*people)/elapsed.Seconds(), "notifications/s")
		stop()
		s.Close()
		b.StartTimer()
	}
}
