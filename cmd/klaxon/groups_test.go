package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// TestOnCallGroupsFollowTheSchedule runs klaxon on the fake Slack and the
// fake Discord at once, with a daily Europe/Berlin rotation whose handoff
// at 09:00 local falls an hour later in UTC after the DST change of
// 2026-10-25. The Slack user group and the Discord role hold exactly who
// is on call: fixed at start-up where someone edited them, moved at the
// handoff (not at a 24-hour guess), at a cover and its undo, and after a
// restart in the middle of a handoff whose update had not gone out.
func TestOnCallGroupsFollowTheSchedule(t *testing.T) {
	const dCarol = "100000000000000003"
	slk := slackfake.New(t, map[string]string{alice: "alice", bob: "bob", "U0CAROL": "carol"})
	dsc := discordfake.New(t, map[string]string{dAlice: "alice", dBob: "bob", dCarol: "carol"})
	dsc.SetServerMembersIntent(true)
	role := dsc.AddRole("payments-oncall")
	// Drift from before klaxon started: carol holds both by hand.
	slk.EditUserGroup("payments-oncall", "U0CAROL")
	dsc.GiveRole(dCarol, role)

	config := writeConfig(t, `
people:
  - {id: alice, name: Alice, slack_id: U0ALICE, discord_id: "`+dAlice+`", time_zone: Europe/Berlin}
  - {id: bob, name: Bob, slack_id: U0BOB, discord_id: "`+dBob+`", time_zone: Europe/Berlin}
  - {id: carol, name: Carol, slack_id: U0CAROL, discord_id: "`+dCarol+`", time_zone: Europe/Berlin}
services:
  - {id: payments, owners: [alice]}
schedules:
  - id: payments
    service: payments
    time_zone: Europe/Berlin
    slack_user_group: "@payments-oncall"
    discord_role: "`+role+`"
    layers:
      - {rotation: daily, start: 2026-10-23, handoff: "09:00", participants: [alice, bob]}
`)
	db := filepath.Join(t.TempDir(), "k.db")
	// 07:30 UTC on 2026-10-25 is 08:30 CET: bob's shift (from the 24th,
	// 09:00 CEST) runs until 09:00 CET = 08:00 UTC.
	clock := bot.NewFakeClock(time.Date(2026, 10, 25, 7, 30, 0, 0, time.UTC))
	var logs *syncBuffer
	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		logs = &syncBuffer{}
		m := &Main{Stdin: strings.NewReader(""), Stdout: logs, Stderr: logs, Clock: clock, TickEvery: 5 * time.Millisecond,
			Getenv: env{"KLAXON_STORE_PATH": db, "KLAXON_HTTP_LISTEN": "127.0.0.1:0",
				"KLAXON_SLACK_APP_TOKEN": slk.AppToken, "KLAXON_SLACK_BOT_TOKEN": slk.BotToken, "KLAXON_SLACK_API_URL": slk.URL(),
				"KLAXON_DISCORD_TOKEN": discordfake.Token, "KLAXON_DISCORD_APPLICATION_ID": discordfake.AppID,
				"KLAXON_DISCORD_GUILD_ID": discordfake.GuildID, "KLAXON_DISCORD_API_URL": dsc.APIURL(),
				"KLAXON_DISCORD_GATEWAY_URL": dsc.GatewayURL(), "KLAXON_DISCORD_CATEGORY_ID": discordfake.CategoryID}.get}
		done := make(chan error, 1)
		go func() { done <- m.Execute(ctx, []string{"run", "--config", config}) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("klaxon: %v\n%s", err, logs)
			}
		}
	}
	slackMembers := func() []string {
		g, ok := slk.UserGroup("payments-oncall")
		if !ok || g.Disabled {
			return nil
		}
		return slices.Sorted(slices.Values(g.Users))
	}
	// expect waits for the group and the role to hold exactly the given
	// members. With tick, the fake clock moves a second per look, as the
	// scheduler's ticks do (a command's change shows at the next one).
	expect := func(when string, tick bool, slackIDs []string, discordIDs []string) {
		t.Helper()
		ok := slk.WaitFor(wait, func() bool {
			if tick {
				clock.Advance(time.Second)
			}
			return slices.Equal(slackMembers(), slackIDs) && slices.Equal(dsc.RoleMembers(role), discordIDs)
		})
		if !ok {
			t.Fatalf("%s: user group %v, role %v; want %v and %v; logs:\n%s", when, slackMembers(), dsc.RoleMembers(role), slackIDs, discordIDs, logs)
		}
	}
	stop := start()
	expect("at start-up", false, []string{bob}, []string{dBob})
	updates := func() int { g, _ := slk.UserGroup("payments-oncall"); return g.Updates }
	before := updates()
	clock.Advance(29 * time.Minute) // 07:59 UTC, 08:59 CET: still bob's
	time.Sleep(50 * time.Millisecond)
	expect("a minute before the handoff", false, []string{bob}, []string{dBob})
	if n := updates(); n != before {
		t.Errorf("the user group was set %d times while nobody changed", n-before)
	}
	clock.Advance(time.Minute) // 08:00 UTC = 09:00 CET
	expect("at the handoff", false, []string{alice}, []string{dAlice})

	// Alice asks carol to cover for an hour, then takes it back.
	command := func(cmd, text string) {
		t.Helper()
		if _, ok := slk.Ack(slk.SlashCommand(alice, "C0GENERAL", cmd, text), wait); !ok {
			t.Fatalf("%s %s was not acknowledged", cmd, text)
		}
	}
	command("/oncall", "cover <@U0CAROL> 1h")
	expect("during the cover", true, []string{"U0CAROL"}, []string{dCarol})
	command("/oncall", "undo")
	expect("after the undo", true, []string{alice}, []string{dAlice})

	// The summary of a payments incident, and /oncall, name the group so
	// people can mention the on-call (as text: Slack would page everyone
	// in a <!subteam^…> on every post).
	command("/incident", `declare "Checkout is down" service:payments`)
	if !slk.WaitFor(wait, func() bool {
		ch, ok := slk.ChannelByName("inc-1-checkout-is-down")
		return ok && len(ch.Pins) == 1 && strings.Contains(slk.Messages(ch.ID)[0].Rendered(), "On call")
	}) {
		t.Fatalf("no pinned summary with the on-call; channels %+v; logs:\n%s", slk.Channels(), logs)
	}
	ch, _ := slk.ChannelByName("inc-1-checkout-is-down")
	if summary := slk.Messages(ch.ID)[0].Rendered(); !strings.Contains(summary, "@payments-oncall") || strings.Contains(summary, "<!subteam") {
		t.Errorf("the summary does not name @payments-oncall as text:\n%s", summary)
	}

	// The next handoff's update is refused for now (429), and klaxon
	// stops before it goes out; the restarted klaxon finishes it.
	slk.RateLimit("usergroups.users.update", 1, 30)
	clock.Advance(24 * time.Hour) // 2026-10-26 08:00 UTC: bob's
	if !slk.WaitFor(wait, func() bool {
		return len(slk.Calls("usergroups.users.update")) > 0 && slices.Equal(dsc.RoleMembers(role), []string{dBob})
	}) {
		t.Fatal("the handoff's updates were not tried")
	}
	if got := slackMembers(); !slices.Equal(got, []string{alice}) {
		t.Fatalf("the user group is %v; the refused update must not have gone out", got)
	}
	stop()
	clock.Advance(time.Minute)
	stop = start()
	defer stop()
	expect("after the restart", false, []string{bob}, []string{dBob})
}
