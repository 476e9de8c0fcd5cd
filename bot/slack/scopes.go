package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
)

// Need is a Web API method klaxon calls, the bot scopes of which it needs
// one (Slack's reference page of the method), and what stops working
// without it.
type Need struct {
	Method string
	Scopes []string
	Breaks string
}

// Needs lists every Web API method the adapter calls with the bot token.
// slack-app-manifest.yaml must grant a scope of each; a test holds it to
// Slack's own table in slackfake and to the calls the adapter makes.
var Needs = []Need{
	{"auth.test", nil, "start-up"},
	{"conversations.create", []string{"channels:manage"}, "creating public incident channels"},
	{"conversations.create", []string{"groups:write"}, "creating private incident channels"},
	{"conversations.invite", []string{"channels:manage", "groups:write"}, "inviting responders"},
	{"conversations.setTopic", []string{"channels:manage", "groups:write"}, "channel topics"},
	{"conversations.setPurpose", []string{"channels:manage", "groups:write"}, "channel purposes"},
	{"conversations.archive", []string{"channels:manage", "groups:write"}, "archiving closed incidents' channels"},
	{"conversations.open", []string{"im:write"}, "direct messages (pages, replies)"},
	{"chat.postMessage", []string{"chat:write"}, "every message"},
	{"chat.postMessage", []string{"chat:write.public"}, "announcements in channels klaxon has not joined"},
	{"chat.update", []string{"chat:write"}, "updating the pinned summary"},
	{"chat.postEphemeral", []string{"chat:write"}, "private replies"},
	{"pins.add", []string{"pins:write"}, "pinning the summary"},
	{"files.getUploadURLExternal", []string{"files:write"}, "posting the postmortem draft"},
	{"files.completeUploadExternal", []string{"files:write"}, "posting the postmortem draft"},
	{"views.open", nil, "forms"},
	{"views.publish", nil, "the App Home tab"},
	{"conversations.list", []string{"channels:read", "groups:read"}, "finding a channel klaxon created before a crash, instead of making another"},
	{"conversations.history", []string{"channels:history", "groups:history", "im:history"}, "finding a message klaxon posted before a crash, instead of posting it twice"},
	{"usergroups.list", []string{"usergroups:read"}, "on-call user groups (schedules' slack_user_group)"},
	{"usergroups.create", []string{"usergroups:write"}, "on-call user groups (schedules' slack_user_group)"},
	{"usergroups.users.update", []string{"usergroups:write"}, "on-call user groups (schedules' slack_user_group)"},
	{"usergroups.enable", []string{"usergroups:write"}, "on-call user groups (schedules' slack_user_group)"},
	{"usergroups.disable", []string{"usergroups:write"}, "on-call user groups (schedules' slack_user_group)"},
}

// EventNeeds are the scopes the events klaxon reads need, and what is lost
// without them.
var EventNeeds = []Need{
	{"app_mention", []string{"app_mentions:read"}, "questions to @klaxon"},
	{"message.channels", []string{"channels:history"}, "the timeline of public incident channels"},
	{"message.groups", []string{"groups:history"}, "the timeline of private incident channels"},
	{"message.im", []string{"im:history"}, "questions in direct messages"},
	{"reaction_added", []string{"reactions:read"}, "acknowledging pages with a reaction, and 📌 highlights"},
	{"pin_added", []string{"pins:read"}, "pins on the timeline"},
	{"member_joined_channel", []string{"channels:read"}, "joins on the timeline"},
}

// Missing names what the granted scopes leave out: one line a missing
// scope, with what stops working and how to fix it.
func Missing(granted []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range append(append([]Need(nil), Needs...), EventNeeds...) {
		if len(n.Scopes) == 0 || slices.ContainsFunc(n.Scopes, func(s string) bool { return slices.Contains(granted, s) }) {
			continue
		}
		key := strings.Join(n.Scopes, "|")
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, fmt.Sprintf("Slack scope %s is missing: %s will not work. Add it under OAuth & Permissions (or update the app from slack-app-manifest.yaml) and reinstall the app.",
			strings.Join(n.Scopes, " or "), n.Breaks))
	}
	return out
}

// identity is what auth.test says of the bot token.
type identity struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Team   string `json:"team"`
	UserID string `json:"user_id"`
	BotID  string `json:"bot_id"`
}

// authTest calls auth.test itself, rather than through slack-go, to read
// the X-OAuth-Scopes header Slack answers with: the scopes the token holds.
func (a *Adapter) authTest(ctx context.Context) (identity, []string, error) {
	var id identity
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.apiURL+"auth.test", nil)
	if err != nil {
		return id, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.botToken)
	resp, err := a.http.Do(req)
	if err != nil {
		return id, nil, &bot.Error{Code: bot.EUNAVAILABLE, Message: "Slack did not answer auth.test", Err: err}
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&id); err != nil {
		return id, nil, &bot.Error{Code: bot.EUNAVAILABLE, Message: fmt.Sprintf("Slack answered auth.test with %s", resp.Status), Err: err}
	}
	if !id.OK {
		return id, nil, &bot.Error{Code: bot.EFORBIDDEN, Message: fmt.Sprintf("Slack refused the bot token (%s); check slack.bot_token", id.Error)}
	}
	var granted []string
	for _, s := range strings.Split(resp.Header.Get("X-OAuth-Scopes"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			granted = append(granted, s)
		}
	}
	return id, granted, nil
}

// Check asks Slack which scopes the bot token holds and returns what is
// missing, one line each. An error means Slack could not be asked, or
// refused the token.
func (a *Adapter) Check(ctx context.Context) ([]string, error) {
	_, granted, err := a.authTest(ctx)
	if err != nil {
		return nil, err
	}
	return append(Missing(granted), a.groupProblems(ctx)...), nil
}

// Problems returns what the start-up check found missing.
func (a *Adapter) Problems() []string {
	p, _ := a.problems.Load().([]string)
	return p
}

var _ bot.SelfChecker = (*Adapter)(nil)
