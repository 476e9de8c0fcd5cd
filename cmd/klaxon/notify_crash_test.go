//go:build chaos

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot/notify/notifytest"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// TestNotifyCrashLoop kills the real klaxon binary (SIGKILL) while it
// texts and calls a team of 30: every round declares an incident that
// pages everyone (an SMS and a call each, at once) and kills klaxon at a
// random moment while the notifications go out, with Twilio slow to
// answer. After the last restart every person has exactly one text per
// incident, because a retry that may repeat an unrecorded attempt asks
// Twilio first, and at least one call: Twilio's call records cannot be
// told apart, so a call whose answer was lost is placed again (the
// README says so).
func TestNotifyCrashLoop(t *testing.T) {
	rounds := 10
	if s := os.Getenv("CHAOS_ROUNDS"); s != "" {
		rounds, _ = strconv.Atoi(s)
		rounds = min(rounds, 25)
	}
	const team = 30
	tw := notifytest.NewTwilio()
	defer tw.Close()
	tw.Delay = 25 * time.Millisecond
	users := map[string]string{alice: "alice"}
	var people, participants strings.Builder
	for i := range team {
		id := fmt.Sprintf("p%02d", i)
		fmt.Fprintf(&people, "  - {id: %s, name: P%02d, contact: {sms: \"+1415555%04d\", voice: \"+1415555%04d\"}}\n", id, i, i, i)
		participants.WriteString(id + ",")
	}
	config := writeConfig(t, `
people:
  - {id: alice, name: Alice, slack_id: U0ALICE}
`+people.String()+`
services:
  - {id: payments, escalation_policy: everyone}
schedules:
  - {id: team, service: payments, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [`+strings.TrimSuffix(participants.String(), ",")+`]}]}
escalation_policies:
  - id: everyone
    steps:
      - {delay: 30m, targets: [{team: team}]}
notifications:
  default_rules: ["sms 0m", "voice 0m"]
  twilio: {account_sid: `+tw.AccountSID+`, auth_token: "`+tw.AuthToken+`", from: "`+tw.Numbers[0]+`", api_url: "`+tw.Server.URL+`"}
`)
	fake := slackfake.New(t, users)
	t.Cleanup(fake.Close)
	bin, db := buildKlaxon(t), filepath.Join(t.TempDir(), "klaxon.db")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	found := 0 // retries that found their earlier attempt at Twilio
	for round := range rounds {
		p := startProcess(t, bin, db, fake, "--config", config)
		if _, ok := fake.Ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", fmt.Sprintf(`declare "Drill %d" sev:1 service:payments`, round+1)), wait); !ok {
			t.Fatalf("round %d: the declaration was not acknowledged\n%s", round, p.logs)
		}
		// Kill while this incident's notifications go out: after the
		// first of its texts reached Twilio (so the declaration is
		// committed: a slash command is acknowledged before it is carried
		// out, so a kill right after the acknowledgement can lose it, and
		// that is not what this test is about).
		inc := fmt.Sprintf("INC-%d ", round+1)
		if !fake.WaitFor(wait, func() bool {
			return slices.ContainsFunc(tw.Sent("", false), func(m notifytest.Resource) bool { return strings.Contains(m.Body, inc) })
		}) {
			t.Fatalf("round %d: no text for %s went out\n%s", round, inc, p.logs)
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		p.kill()
		found += strings.Count(p.logs.String(), "an earlier attempt got through")
	}
	p := startProcess(t, bin, db, fake, "--config", config)
	defer p.stop(t)
	count := func() (texts, calls map[string]int) {
		texts, calls = map[string]int{}, map[string]int{}
		for _, m := range tw.Sent("", false) {
			for n := 1; n <= rounds; n++ {
				if strings.Contains(m.Body, fmt.Sprintf("INC-%d ", n)) {
					texts[fmt.Sprintf("%s INC-%d", m.To, n)]++
				}
			}
		}
		for _, c := range tw.Sent("", true) {
			for n := 1; n <= rounds; n++ {
				if strings.Contains(c.Twiml, fmt.Sprintf("incident %d ", n)) {
					calls[fmt.Sprintf("%s INC-%d", c.To, n)]++
				}
			}
		}
		return texts, calls
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		texts, calls := count()
		if len(texts) == team*rounds && len(calls) == team*rounds {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d crashes: %d of %d texts and %d of %d calls reached people", rounds, len(texts), team*rounds, len(calls), team*rounds)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // retries still due would show now
	texts, calls := count()
	twice := 0
	for k, n := range texts {
		if n > 1 {
			twice++
			t.Errorf("%s: %d texts", k, n)
		}
	}
	calledAgain := 0
	for _, n := range calls {
		calledAgain += n - 1
	}
	found += strings.Count(p.logs.String(), "an earlier attempt got through")
	t.Logf("%d crashes while notifying %d people per incident: %d texts and %d calls, none lost; %d texts doubled, %d calls placed again; %d retries found their lost text at Twilio",
		rounds, team, len(texts), len(calls), twice, calledAgain, found)
	if len(tw.Violations) > 0 {
		t.Errorf("Twilio fake: %v", tw.Violations)
	}
}
