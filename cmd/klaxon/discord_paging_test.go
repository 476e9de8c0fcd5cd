package main

import (
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
)

// TestDiscordPagingOnCallFollowUpsAndPostmortem drives on Discord, through
// the real discordgo client, what the contract suite covers below it:
// paging with acknowledgement by reaction on the channel notice and on the
// DM, "who is on call" as a mention and as a DM, follow-ups, and the
// postmortem posted on resolve.
func TestDiscordPagingOnCallFollowUpsAndPostmortem(t *testing.T) {
	k := startDiscordWith(t, `
people:
  - {id: alice, name: Alice, discord_id: "`+dAlice+`", time_zone: Europe/Berlin}
  - {id: bob, name: Bob, discord_id: "`+dBob+`"}
services:
  - {id: payments, escalation_policy: payments}
  - {id: search, escalation_policy: search}
schedules:
  - {id: payments, service: payments, time_zone: UTC, layers: [{rotation: weekly, start: 2026-01-05, participants: [alice]}]}
  - {id: search, service: search, time_zone: UTC, layers: [{rotation: weekly, start: 2026-01-05, participants: [bob]}]}
escalation_policies:
  - {id: payments, steps: [{delay: 5m, targets: [{schedule: payments}]}]}
  - {id: search, steps: [{delay: 5m, targets: [{schedule: search}]}]}
pagers:
  - {id: dm, type: chat}
`)
	f := k.fake

	// Paging: the declaration DMs alice; her ✅ on the DM acknowledges.
	if got := k.reply(f.Command(dBob, discordfake.GeneralID, "incident", "declare",
		discordfake.Option{Name: "title", Type: 3, Value: "Card payments fail"},
		discordfake.Option{Name: "severity", Type: 3, Value: "SEV1"},
		discordfake.Option{Name: "service", Type: 3, Value: "payments"})); !strings.Contains(got, "INC-1") {
		t.Fatalf("declare replied %q", got)
	}
	var dm, page string
	k.waitFor("the page DM to alice", func() bool {
		dm, _ = f.DMChannel(dAlice)
		for _, m := range f.Messages(dm) {
			if strings.Contains(m.Rendered(), "INC-1") {
				page = m.ID
			}
		}
		return page != ""
	})
	inc1, _ := f.ChannelByName("inc-1-card-payments-fail")
	f.React(dAlice, dm, page, "✅")
	k.waitFor("the acknowledgement by a reaction on the DM", func() bool { return channelSays(f, inc1.ID, "acknowledged") })

	// A second incident: bob acknowledges with ✅ on the channel's page notice.
	k.reply(f.Command(dAlice, discordfake.GeneralID, "incident", "declare",
		discordfake.Option{Name: "title", Type: 3, Value: "Search is slow"},
		discordfake.Option{Name: "severity", Type: 3, Value: "SEV1"},
		discordfake.Option{Name: "service", Type: 3, Value: "search"}))
	var inc2 discordfake.Channel
	var notice string
	k.waitFor("the page notice in the incident channel", func() bool {
		inc2, _ = f.ChannelByName("inc-2-search-is-slow")
		for _, m := range f.Messages(inc2.ID) {
			if m.Author == discordfake.BotID && strings.Contains(m.Rendered(), "Paged") {
				notice = m.ID
			}
		}
		return notice != ""
	})
	f.React(dBob, inc2.ID, notice, "✅")
	k.waitFor("the acknowledgement by a reaction on the notice", func() bool { return channelSays(f, inc2.ID, "acknowledged") })

	// Who is on call, as a mention and as a DM.
	f.Say(dBob, discordfake.GeneralID, "<@"+discordfake.BotID+"> who is on call for payments?", discordfake.BotID)
	k.waitFor("the answer to the mention", func() bool { return channelSays(f, discordfake.GeneralID, "On call now") })
	bobDM := f.OpenDM(dBob)
	f.Say(dBob, bobDM, "who is on call?")
	k.waitFor("the answer in the DM", func() bool { return channelSays(f, bobDM, "On call now") })

	// A follow-up, listed, then done.
	if got := k.reply(f.Command(dAlice, inc1.ID, "incident", "followup",
		discordfake.Option{Name: "text", Type: 3, Value: "Add a retry budget"},
		discordfake.Option{Name: "owner", Type: 6, Value: dBob})); !strings.Contains(got, "Done") {
		t.Fatalf("followup replied %q", got)
	}
	k.waitFor("the follow-up in the channel", func() bool { return channelSays(f, inc1.ID, "F-1") })
	if got := k.reply(f.Command(dBob, discordfake.GeneralID, "followup", "list", discordfake.Option{Name: "filter", Type: 3, Value: "mine"})); !strings.Contains(got, "Add a retry budget") {
		t.Errorf("followup list mine = %q", got)
	}
	if got := k.reply(f.Command(dBob, discordfake.GeneralID, "followup", "done", discordfake.Option{Name: "id", Type: 3, Value: "F-1"})); !strings.Contains(got, "F-1") {
		t.Errorf("followup done = %q", got)
	}

	// Resolve: the postmortem draft is posted to the channel.
	k.reply(f.Command(dAlice, inc1.ID, "incident", "resolve", discordfake.Option{Name: "summary", Type: 3, Value: "Rolled back"}))
	k.waitFor("the postmortem files", func() bool {
		files := f.Files(inc1.ID)
		var names []string
		for _, file := range files {
			names = append(names, file.Name)
		}
		joined := strings.Join(names, ",")
		return strings.Contains(joined, "INC-1-postmortem.md") && strings.Contains(joined, "INC-1-timeline.txt")
	})
	for _, file := range f.Files(inc1.ID) {
		if file.Name == "INC-1-postmortem.md" && (!strings.Contains(string(file.Content), "Card payments fail") || !strings.Contains(string(file.Content), "Add a retry budget")) {
			t.Errorf("the postmortem lacks the title or the action item:\n%s", file.Content)
		}
	}
}

// channelSays reports whether klaxon said something containing text in
// channel.
func channelSays(f *discordfake.Server, channel, text string) bool {
	for _, m := range f.Messages(channel) {
		if m.Author == discordfake.BotID && strings.Contains(m.Rendered(), text) {
			return true
		}
	}
	return false
}
