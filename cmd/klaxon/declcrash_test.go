//go:build chaos

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// TestDeclarationCrashLoop kills klaxon with SIGKILL at random moments
// inside declarations, while the fake Slack answers every Web API call
// slowly (300 ms), and restarts it on the same file. Each round declares
// one incident and kills klaxon between 0 and 2.5 s after the declaration
// was acknowledged, when its chat work is half done. In the end every
// declared incident has exactly one channel, one pinned summary, one
// announcement and one page for its first step: what a declaration commits
// is carried out after any crash, once. CHAOS_ROUNDS sets the rounds
// (default 50; CI runs fewer).
var incidentKey = regexp.MustCompile(`INC-[0-9]+`)

func TestDeclarationCrashLoop(t *testing.T) {
	rounds := 50
	if s := os.Getenv("CHAOS_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
	}
	fake := slackfake.New(t, map[string]string{alice: "alice", bob: "bob", carol: "carol"})
	t.Cleanup(fake.Close)
	rx := newPagerReceiver(t)
	bin := buildKlaxon(t)
	db := filepath.Join(t.TempDir(), "klaxon.db")
	config := writeConfig(t, fmt.Sprintf(drillConfig, rx.srv.URL, rx.secret))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	const delay = 300 * time.Millisecond
	fake.SetDelay(delay)

	declared := 0
	var p *process
	for round := range rounds {
		p = startProcess(t, bin, db, fake, "--config", config)
		env := fake.SlashCommand(alice, "C0GENERAL", "/incident", fmt.Sprintf(`declare "Crash %d" sev:2 service:payments`, round))
		if _, ok := fake.Ack(env, wait); !ok {
			t.Fatalf("round %d: the declaration was not acknowledged; logs:\n%s", round, p.logs)
		}
		declared++
		if d, ok := fake.AckLatency(env); ok && d > 3*time.Second {
			t.Errorf("round %d: the declaration was acknowledged after %v; Slack allows 3 s", round, d)
		}
		time.Sleep(time.Duration(rng.IntN(2500)) * time.Millisecond)
		p.kill()
	}
	// The last restart finishes what is left.
	p = startProcess(t, bin, db, fake, "--config", config)
	complete := func() bool {
		if len(fake.Channels()) < declared || len(rx.pages()) < declared || len(fake.Messages("C0INCIDENTS")) < declared {
			return false
		}
		for _, c := range fake.Channels() {
			if len(c.Pins) == 0 {
				return false
			}
		}
		return true
	}
	// A post whose job was cut short by a kill is looked for before it is
	// made again, with conversations.history: one call a minute, so each
	// such post can take a minute more.
	if !fake.WaitFor(5*time.Minute, complete) {
		t.Errorf("after 5 min: %d channels, %d pages, %d announcements for %d incidents; logs:\n%.6000s",
			len(fake.Channels()), len(rx.pages()), len(fake.Messages("C0INCIDENTS")), declared, p.logs)
	}
	time.Sleep(3 * delay) // anything doubled would show by now
	p.stop(t)

	s, err := bolt.Open(db, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	announced := map[string]int{}
	for _, m := range fake.Messages("C0INCIDENTS") {
		announced[incidentKey.FindString(m.Text)]++
	}
	channels := map[string][]slackfake.Channel{}
	for _, c := range fake.Channels() {
		number, _, _ := strings.Cut(strings.TrimPrefix(c.Name, "inc-"), "-")
		channels["INC-"+number] = append(channels["INC-"+number], c)
	}
	pagesOf := map[string]int{} // incident id → first-step pages received
	for key, ev := range rx.triggers() {
		if _, rest, _ := strings.Cut(key, ":"); strings.HasPrefix(rest, "0:0:") {
			pagesOf[ev.IncidentID]++
		}
	}
	for n := 1; n <= declared; n++ {
		inc, err := s.IncidentByNumber(context.Background(), int64(n))
		if err != nil {
			t.Errorf("INC-%d: %v", n, err)
			continue
		}
		key := inc.Key()
		cs := channels[key]
		if len(cs) != 1 {
			t.Errorf("%s has %d channels; want exactly one", key, len(cs))
			continue
		}
		if inc.Channel.ID != cs[0].ID {
			t.Errorf("%s records channel %s; Slack has %s", key, inc.Channel.ID, cs[0].ID)
		}
		if len(cs[0].Pins) != 1 {
			t.Errorf("%s's channel has %d pins; want the summary once", key, len(cs[0].Pins))
		}
		summaries := 0
		for _, m := range fake.Messages(cs[0].ID) {
			if strings.Contains(string(m.Blocks), "*Status*") {
				summaries++
			}
		}
		if summaries != 1 {
			t.Errorf("%s's channel has %d summaries; want one", key, summaries)
			for _, m := range fake.Messages(cs[0].ID) {
				t.Logf("  %s %s %.60q metadata %s", m.TS, m.User, m.Text, m.Metadata)
			}
		}
		if announced[key] != 1 {
			t.Errorf("%s was announced %d times; want once", key, announced[key])
		}
		if got := pagesOf[inc.ID.String()]; got != 1 {
			t.Errorf("%s's first step paged %d times (distinct keys); want once", key, got)
		}
	}
	if extra := len(fake.Channels()) - declared; extra > 0 {
		t.Errorf("%d channels more than incidents", extra)
		for _, c := range fake.Channels() {
			t.Logf("  channel %s %s", c.ID, c.Name)
		}
	}
	if more, err := s.IncidentByNumber(context.Background(), int64(declared+1)); err == nil {
		t.Errorf("%s (%q) was declared, more than the %d declarations", more.Key(), more.Title, declared)
	}
	posts, keys := rx.counts()
	t.Logf("%d declarations, each killed 0–2.5 s after its acknowledgement with Slack answering in %v: %d channels, %d announcements; the pager got %d posts under %d keys",
		declared, delay, len(fake.Channels()), len(fake.Messages("C0INCIDENTS")), posts, keys)
}
