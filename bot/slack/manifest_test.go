package slack_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot/slack"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// TestManifestMatchesAdapter keeps slack-app-manifest.yaml in step with what
// the adapter calls and handles.
func TestManifestMatchesAdapter(t *testing.T) {
	m, err := slackfake.ReadManifest(slackfake.ManifestPath())
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, c := range m.Features.SlashCommands {
		cmds = append(cmds, c.Command)
		if !c.ShouldEscape {
			t.Errorf("%s should escape mentions", c.Command)
		}
	}
	if got := strings.Join(cmds, " "); got != "/incident /followups /followup /oncall" {
		t.Errorf("slash commands = %s; want /incident /followups /followup /oncall", got)
	}
	if len(m.Features.Shortcuts) != 1 || m.Features.Shortcuts[0].CallbackID != slack.ShortcutCallbackID || m.Features.Shortcuts[0].Type != "message" {
		t.Errorf("shortcuts = %+v; want the %s message shortcut", m.Features.Shortcuts, slack.ShortcutCallbackID)
	}
	if !m.Settings.SocketMode || !m.Settings.Interactivity.Enabled {
		t.Error("socket mode and interactivity must be enabled")
	}
	// New apps have the messages tab off: Slack then shows "Sending
	// messages to this app has been turned off" to anyone who DMs klaxon.
	if !m.Features.AppHome.MessagesTab || !m.Features.AppHome.HomeTab {
		t.Error("features.app_home must enable the messages tab (DMs) and the home tab")
	}
	for _, ev := range []string{"app_home_opened", "app_mention", "member_joined_channel", "message.channels", "message.groups", "message.im", "pin_added", "reaction_added", "reaction_removed"} {
		if !slices.Contains(m.Settings.Events.Bot, ev) {
			t.Errorf("manifest does not subscribe to %s, which the adapter handles", ev)
		}
	}
	if missing := slack.Missing(m.OAuth.Scopes.Bot); len(missing) > 0 {
		t.Errorf("the manifest lacks scopes klaxon needs:\n%s", strings.Join(missing, "\n"))
	}
}

// TestNeedsAgreeWithSlack holds the adapter's scope table to Slack's own
// (slackfake.MethodScopes, from each method's reference page).
func TestNeedsAgreeWithSlack(t *testing.T) {
	for _, n := range slack.Needs {
		slackScopes, known := slackfake.MethodScopes[n.Method]
		if !known {
			t.Errorf("klaxon calls %s, which the fake does not know", n.Method)
			continue
		}
		for _, s := range n.Scopes {
			if s == "chat:write.public" {
				continue // widens chat:write to channels klaxon has not joined
			}
			if !slices.Contains(slackScopes, s) {
				t.Errorf("%s: klaxon says it needs %s; Slack's table says one of %v", n.Method, s, slackScopes)
			}
		}
		if len(n.Scopes) == 0 && len(slackScopes) > 0 {
			t.Errorf("%s: klaxon says it needs no scope; Slack's table says one of %v", n.Method, slackScopes)
		}
	}
	for _, n := range slack.EventNeeds {
		if got := slackfake.EventScopes[n.Method]; !slices.Contains(n.Scopes, got) {
			t.Errorf("event %s needs %s; klaxon says %v", n.Method, got, n.Scopes)
		}
	}
}

// calledMethodsHaveNeeds fails t if the adapter called a Web API method
// that slack.Needs does not list.
func calledMethodsHaveNeeds(t *testing.T, f *slackfake.Server) {
	t.Helper()
	for _, c := range f.Calls("") {
		method, _, _ := strings.Cut(c.Method, " ")
		if method == "apps.connections.open" { // the app-level token's
			continue
		}
		if !slices.ContainsFunc(slack.Needs, func(n slack.Need) bool { return n.Method == method }) {
			t.Errorf("the adapter called %s, which slack.Needs does not list", method)
		}
	}
}
