package discord_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
)

// TestOnCallRoleRefusals: Discord lets klaxon give only roles below its
// highest role, and lists members only with the Server Members intent on.
// The check names each, and SetGroup fails with Discord's refusal instead
// of claiming success.
func TestOnCallRoleRefusals(t *testing.T) {
	ctx := context.Background()
	f := discordfake.New(t, map[string]string{alice: "alice", bob: "bob"})
	ok, high := f.AddRole("payments-oncall"), f.AddRole("admins")
	f.RaiseRole(high)
	a, err := discord.New(discord.Config{Token: discordfake.Token, ApplicationID: discordfake.AppID, GuildID: discordfake.GuildID,
		APIURL: f.APIURL(), GatewayURL: f.GatewayURL(), Roles: []string{ok, high, "123456789012345678"}, Log: zerolog.New(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	problems, err := a.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(problems, "\n")
	for _, want := range []string{"Server Members intent is off", "@admins is not below klaxon's highest role", "123456789012345678 (a schedule's discord_role) is not a role of the server"} {
		if !strings.Contains(joined, want) {
			t.Errorf("check does not say %q:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "payments-oncall") {
		t.Errorf("check finds fault with the assignable role:\n%s", joined)
	}
	if err := a.SetGroup(ctx, ok, []string{alice}); bot.ErrorCode(err) != bot.EREFUSED || !strings.Contains(err.Error(), "Server Members intent") {
		t.Errorf("SetGroup without the Server Members intent: %v; want a refusal naming the intent", err)
	}
	if v := f.TakeViolations(); len(v) != 1 || v[0].Code != 50001 {
		t.Errorf("violations = %v; want the member list refused with 50001", v)
	}

	f.SetServerMembersIntent(true)
	if err := a.SetGroup(ctx, high, []string{alice}); bot.ErrorCode(err) != bot.EREFUSED {
		t.Errorf("SetGroup of a role above klaxon's: %v; want Discord's refusal", err)
	}
	if v := f.TakeViolations(); len(v) != 1 || v[0].Code != 50013 {
		t.Errorf("violations = %v; want the role refused with 50013", v)
	}
	if got := f.RoleMembers(high); len(got) != 0 {
		t.Errorf("the role above klaxon's went to %v", got)
	}
	// By hand, bob got the on-call role; klaxon takes it back.
	f.GiveRole(bob, ok)
	if err := a.SetGroup(ctx, ok, []string{alice}); err != nil {
		t.Fatal(err)
	}
	if got := f.RoleMembers(ok); len(got) != 1 || got[0] != alice {
		t.Errorf("role members = %v; want only alice", got)
	}
	if problems, _ := a.Check(ctx); strings.Contains(strings.Join(problems, "\n"), "Server Members") {
		t.Errorf("the check still reports the intent after it was turned on: %q", problems)
	}
}

// A role is mentioned as Discord writes it; klaxon's allowed_mentions keep
// it from notifying the role's holders.
func TestGroupMentionIsTheRoleMention(t *testing.T) {
	a, err := discord.New(discord.Config{Token: discordfake.Token, ApplicationID: discordfake.AppID, GuildID: discordfake.GuildID})
	if err != nil {
		t.Fatal(err)
	}
	if got := a.GroupMention("123456789012345678"); got != "<@&123456789012345678>" {
		t.Errorf("GroupMention = %q; want <@&123456789012345678>", got)
	}
}
