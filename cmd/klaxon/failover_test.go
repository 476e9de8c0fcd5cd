//go:build chaos

package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
	"github.com/klaxon-bot/klaxon/store/pg"
	"github.com/klaxon-bot/klaxon/store/pgtest"
)

// The failover drill: three klaxon replicas (the real binary) on one
// PostgreSQL database, with the fake Slack (a Socket Mode connection each)
// and the fake Discord (the leader's gateway), paging through a signed
// webhook. Each round an incident is declared with a two-step escalation
// and its channel talks; the leader is killed with SIGKILL at a random
// moment, a declaration arrives while it is dead, and the killed replica
// comes back as a standby. Once, PostgreSQL itself is stopped for 30 s.
// Run with `make chaos` (CHAOS_ROUNDS rounds, default 20 here).

const failoverLease = 5 * time.Second // the default store.postgres.lease

// replica is one klaxon process.
type replica struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	addr string
}

type failoverDrill struct {
	t       *testing.T
	bin     string
	env     []string
	config  string
	slack   *slackfake.Server
	discord *discordfake.Server
	pager   *pagerReceiver
	reps    []*replica
}

func (d *failoverDrill) start(i int) {
	d.t.Helper()
	r := &replica{cmd: exec.Command(d.bin, "run", "--config", d.config), logs: &syncBuffer{}}
	r.cmd.Env = d.env
	r.cmd.Dir = d.t.TempDir()
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); r.addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(r.logs.String()); m != nil {
			r.addr = m[1]
		} else if time.Now().After(deadline) {
			d.t.Fatalf("replica %d did not start; logs:\n%s", i, r.logs)
		}
	}
	d.reps[i] = r
}

// role asks replica i what it is.
func (d *failoverDrill) role(i int) string {
	r := d.reps[i]
	if r == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	body := getCtx(ctx, "http://"+r.addr+"/readyz")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "role: "); ok {
			return v
		}
	}
	return ""
}

// leader waits for exactly one leader and returns it.
func (d *failoverDrill) leader(within time.Duration) int {
	d.t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var leaders []int
		for i := range d.reps {
			if d.role(i) == roleLeader {
				leaders = append(leaders, i)
			}
		}
		if len(leaders) > 1 {
			d.t.Fatalf("replicas %v lead at once", leaders)
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
	}
	d.t.Fatalf("no leader within %s", within)
	return -1
}

func (d *failoverDrill) kill(i int) {
	d.reps[i].cmd.Process.Signal(syscall.SIGKILL)
	d.reps[i].cmd.Wait()
	d.reps[i] = nil
}

func (d *failoverDrill) declare(title string) {
	d.t.Helper()
	env := d.slack.SlashCommand(alice, "C0GENERAL", "/incident", fmt.Sprintf(`declare %q sev:1 service:payments`, title))
	if _, ok := d.slack.Ack(env, 10*time.Second); !ok {
		d.t.Fatalf("the declaration of %s was not acknowledged", title)
	}
}

func TestFailover(t *testing.T) {
	rounds := 20
	if n, err := strconv.Atoi(os.Getenv("CHAOS_ROUNDS")); err == nil && n > 0 {
		rounds = min(n, 20)
	}
	srv := pgtest.Shared(t)
	dsn := pgtest.NewDatabase(t)
	slack := slackfake.New(t, map[string]string{alice: "alice", bob: "bob", carol: "carol"})
	slack.SetMaxConnections(3)
	slack.RedeliverAfter = 2 * time.Second
	discord := discordfake.New(t, map[string]string{dAlice: "alice"})
	pager := newPagerReceiver(t)
	d := &failoverDrill{t: t, bin: buildKlaxon(t), slack: slack, discord: discord, pager: pager, reps: make([]*replica, 3),
		config: writeConfig(t, fmt.Sprintf(drillConfig, pager.srv.URL, pager.secret))}
	d.env = append(os.Environ(), "KLAXON_STORE_DRIVER=postgres", "KLAXON_STORE_POSTGRES_DSN="+dsn,
		"KLAXON_SLACK_APP_TOKEN="+slack.AppToken, "KLAXON_SLACK_BOT_TOKEN="+slack.BotToken, "KLAXON_SLACK_API_URL="+slack.URL(),
		"KLAXON_DISCORD_TOKEN="+discordfake.Token, "KLAXON_DISCORD_APPLICATION_ID="+discordfake.AppID, "KLAXON_DISCORD_GUILD_ID="+discordfake.GuildID,
		"KLAXON_DISCORD_API_URL="+discord.APIURL(), "KLAXON_DISCORD_GATEWAY_URL="+discord.GatewayURL(),
		"KLAXON_HTTP_LISTEN=127.0.0.1:0", "KLAXON_LOG_FORMAT=json")
	for i := range d.reps {
		d.start(i)
	}
	defer func() {
		for i, r := range d.reps {
			if r != nil {
				r.cmd.Process.Signal(syscall.SIGTERM)
				r.cmd.Wait()
				d.reps[i] = nil
			}
		}
	}()
	if !slack.WaitFor(30*time.Second, func() bool { return slack.OpenConnections() == 3 }) {
		t.Fatalf("%d Slack connections; want one per replica", slack.OpenConnections())
	}

	said := map[string]bool{}  // messages acknowledged by some replica
	var dbDown, dbUp time.Time // PostgreSQL's outage
	var failovers []time.Duration
	declared := map[string]time.Time{}
	for round := range rounds {
		lead := d.leader(3 * failoverLease)
		if !discord.WaitFor(10*time.Second, discord.Connected) {
			t.Fatalf("round %d: the leader holds no Discord session", round)
		}
		title := fmt.Sprintf("Round %d", round)
		d.declare(title)
		declared[title] = time.Now()
		var ch slackfake.Channel
		if !slack.WaitFor(10*time.Second, func() bool {
			var ok bool
			// Talk as soon as Slack has the channel, perhaps before klaxon has
			// recorded it: a standby receiving a message then waits for the
			// leader's record (the creation is marked in the store).
			ch, ok = slack.ChannelByName(fmt.Sprintf("inc-%d-round-%d", 2*round+1, round))
			return ok
		}) {
			t.Fatalf("round %d: no incident channel", round)
		}
		// Channel traffic while the leader dies at a random moment.
		killAt := time.Now().Add(time.Duration(rand.IntN(1500)) * time.Millisecond)
		for i := 0; time.Now().Before(killAt) || i < 3; i++ {
			text := fmt.Sprintf("round %d message %d", round, i)
			_, _, env, _ := slack.Say(alice, ch.ID, text)
			if _, ok := slack.Ack(env, 5*time.Second); ok {
				said[text] = true
			}
			time.Sleep(100 * time.Millisecond)
		}
		killed := time.Now()
		d.kill(lead)
		// A declaration while there is no leader: paged once a standby
		// takes over.
		late := fmt.Sprintf("Round %d after the kill", round)
		d.declare(late)
		declared[late] = time.Now()
		if !waitFor(3*failoverLease+5*time.Second, func() bool { return pager.hasPageFor(late) }) {
			t.Fatalf("round %d: the declaration after the kill was never paged", round)
		}
		failovers = append(failovers, pager.firstPageFor(late).Sub(killed))
		d.start(lead)
		if round == rounds/2 {
			// The database goes away for 30 s: the leader stops acting
			// before its lease ends; once it is back, one replica leads and
			// pages what fell due meanwhile.
			dbDown = time.Now()
			srv.Stop()
			time.Sleep(30 * time.Second)
			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
			dbUp = time.Now()
		}
	}
	// The second steps fall due a minute after the first.
	last := time.Time{}
	for _, at := range declared {
		if at.After(last) {
			last = at
		}
	}
	time.Sleep(time.Until(last.Add(stepDelay + failoverLease + 3*time.Second)))
	d.leader(3 * failoverLease)

	// Every escalation step of every incident fired, each under one key,
	// within the lease and 2 s of when it fell due (kills permitting).
	s, err := pg.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	incs, err := s.ListIncidents(context.Background(), bot.IncidentFilter{})
	if err != nil || len(incs) != 2*rounds {
		t.Fatalf("%d incidents, %v; want %d", len(incs), err, 2*rounds)
	}
	if twice := pager.pagedTwice(); len(twice) > 0 {
		t.Errorf("paged under more than one key: %v", twice)
	}
	var late []string
	for _, inc := range incs {
		pages, _ := s.PagesForIncident(context.Background(), inc.ID)
		if len(pages) != 1 {
			t.Errorf("%s has %d pages", inc.Key(), len(pages))
			continue
		}
		first, ok1 := pager.received(pages[0].ID.String() + ":0:0:bob:hook")
		second, ok2 := pager.received(pages[0].ID.String() + ":1:0:carol:hook")
		if !ok1 || !ok2 {
			t.Errorf("%s: step 1 paged %v, step 2 paged %v", inc.Key(), ok1, ok2)
			continue
		}
		due := first.Add(stepDelay)
		if !due.Before(dbDown) && due.Before(dbUp) {
			due = dbUp // nothing can fire while the database is away: from its return
		}
		if second.Sub(due) > failoverLease+2*time.Second {
			late = append(late, fmt.Sprintf("%s %.1fs", inc.Key(), second.Sub(due).Seconds()))
		}
	}
	// Nothing acknowledged is lost, nothing recorded twice.
	seen := map[string]int{}
	for _, inc := range incs {
		s.EachEvent(context.Background(), inc.ID, func(ev bot.Event) error {
			seen[ev.Text]++
			return nil
		})
	}
	for text := range said {
		if seen[text] != 1 {
			t.Errorf("acknowledged message %q is on the timeline %d times; want once", text, seen[text])
		}
	}
	// Every chat job is done, once: one channel and one pinned summary per
	// incident. The last ones may wait out Slack's per-minute tiers.
	pending := 0
	waitFor(2*time.Minute, func() bool {
		counts, _ := s.CountJobs(context.Background())
		pending = 0
		for dest, by := range counts {
			if dest != "discord" {
				pending += by[bot.JobPending]
			}
		}
		return pending == 0
	})
	for _, inc := range incs {
		c, ok := slack.ChannelByName(fmt.Sprintf("inc-%d-%s", inc.Number, slugOf(inc.Title)))
		if !ok || len(c.Pins) != 1 {
			t.Errorf("%s: channel %v, %d pins; want one channel with one pinned summary", inc.Key(), ok, len(c.Pins))
		}
	}
	if pending > 0 {
		for _, inc := range incs {
			jobs, _ := s.PendingJobs(context.Background(), inc.ID)
			for _, j := range jobs {
				t.Logf("pending: %s %s %s attempts %d next %s error %q", inc.Key(), j.Op, j.Destination(), j.Attempts, j.NextAttempt.Format(time.RFC3339), j.LastError)
			}
		}
		t.Errorf("%d chat jobs still pending at the end", pending)
	}
	posts, keys := pager.counts()
	slices.Sort(failovers)
	t.Logf("%d rounds, PostgreSQL stopped 30 s once: %d incidents, %d pager posts under %d keys; failover (kill → first due page by the new leader) p50 %.1fs, max %.1fs; second steps later than lease + 2 s: %v",
		rounds, len(incs), posts, keys, failovers[len(failovers)/2].Seconds(), failovers[len(failovers)-1].Seconds(), late)
	if len(late) > 0 {
		t.Errorf("second steps fired late: %v", late)
	}
	if failovers[len(failovers)-1] > 10*time.Second {
		t.Errorf("a failover took %s; goal < 10 s", failovers[len(failovers)-1])
	}
}

// slugOf is the channel-name part of a title, as klaxon makes it.
func slugOf(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// getCtx reads url's body, or "" when it does not answer.
func getCtx(ctx context.Context, url string) string {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// hasPageFor reports whether a trigger for the incident titled title came.
func (r *pagerReceiver) hasPageFor(title string) bool { return !r.firstPageFor(title).IsZero() }

// firstPageFor is when the first trigger for the incident titled title came.
func (r *pagerReceiver) firstPageFor(title string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first time.Time
	for key, ev := range r.events {
		if ev.Event == "trigger" && strings.HasSuffix(ev.Summary, ": "+title) && (first.IsZero() || r.at[key].Before(first)) {
			first = r.at[key]
		}
	}
	return first
}
