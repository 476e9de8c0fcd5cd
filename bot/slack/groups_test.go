package slack_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/slack"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// TestUserGroupsOnAFreeWorkspace: Slack's free plan has no user groups
// (paid_teams_only). The check says so and SetGroup fails for good with
// that reason; nothing is created.
func TestUserGroupsOnAFreeWorkspace(t *testing.T) {
	ctx := context.Background()
	f := slackfake.New(t, map[string]string{"U0ALICE": "alice"})
	f.SetFreePlan(true)
	a := slack.New(slack.Config{AppToken: f.AppToken, BotToken: f.BotToken, APIURL: f.URL(), UserGroups: []string{"payments-oncall"}, Log: zerolog.New(io.Discard)})
	problems, err := a.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "paid_teams_only") || !strings.Contains(problems[0], "@payments-oncall") {
		t.Errorf("problems = %q; want the plan named with the group", problems)
	}
	err = a.SetGroup(ctx, "payments-oncall", []string{"U0ALICE"})
	if bot.ErrorCode(err) != bot.EUNSUPPORTED || !strings.Contains(bot.ErrorMessage(err), "plan") {
		t.Errorf("SetGroup on a free workspace: %v; want EUNSUPPORTED naming the plan", err)
	}
	if transient, _ := bot.Transient(err); transient {
		t.Error("a free workspace's refusal is retried")
	}
	f.SetFreePlan(false)
	if problems, _ := a.Check(ctx); len(problems) != 0 {
		t.Errorf("problems on a paid workspace = %q", problems)
	}
	if err := a.SetGroup(ctx, "payments-oncall", []string{"U0ALICE"}); err != nil {
		t.Fatal(err)
	}
	g, ok := f.UserGroup("payments-oncall")
	if !ok || len(g.Users) != 1 || g.Users[0] != "U0ALICE" || g.Disabled {
		t.Errorf("user group = %+v, %v; want it made with alice", g, ok)
	}
}

// A user group is named by its handle as text: a <!subteam^…> mention
// would page its members on every post.
func TestGroupMentionIsTheHandleAsText(t *testing.T) {
	a := slack.New(slack.Config{AppToken: "xapp-1", BotToken: "xoxb-1", Log: zerolog.New(io.Discard)})
	if got := a.GroupMention("payments-oncall"); got != "@payments-oncall" {
		t.Errorf("GroupMention = %q; want @payments-oncall", got)
	}
}
