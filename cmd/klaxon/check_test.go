package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
	"github.com/klaxon-bot/klaxon/bot/notify/notifytest"
	"github.com/klaxon-bot/klaxon/bot/tracker/trackerfake"
)

// check runs `klaxon check` against the environment e.
func check(t *testing.T, e env) (string, error) {
	t.Helper()
	var out bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &bytes.Buffer{}, Getenv: e.get}
	err := m.Execute(context.Background(), []string{"check", "--config", writeConfig(t, "")})
	return out.String(), err
}

func TestCheckNamesMissingSlackScopes(t *testing.T) {
	fake := newFake(t)
	e := env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db"), "KLAXON_SLACK_APP_TOKEN": fake.AppToken,
		"KLAXON_SLACK_BOT_TOKEN": fake.BotToken, "KLAXON_SLACK_API_URL": fake.URL()}
	if out, err := check(t, e); err != nil || !strings.Contains(out, "slack: ✓") {
		t.Errorf("check with the manifest's scopes = %q, %v; want ✓", out, err)
	}

	// An app installed from an older manifest: no files:write, no pins:write.
	fake.SetScopes("app_mentions:read", "channels:history", "channels:manage", "channels:read", "chat:write", "chat:write.public",
		"commands", "groups:history", "groups:write", "im:history", "im:write", "reactions:read", "pins:read")
	out, err := check(t, e)
	if err == nil {
		t.Errorf("check exited 0 with scopes missing:\n%s", out)
	}
	for _, want := range []string{"files:write is missing: posting the postmortem draft", "pins:write is missing: pinning the summary", "reinstall"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, fake.BotToken) {
		t.Error("check printed the bot token")
	}

	// A running klaxon logs the same and shows it on /readyz, without
	// failing readiness.
	k := startSlack(t, fake, e["KLAXON_STORE_PATH"])
	base := "http://" + k.httpAddr()
	var body string
	k.waitFor("/readyz with the warnings", func() bool {
		status, b := get(t, base+"/readyz")
		body = b
		return status == 200 && strings.Contains(b, "warning: Slack scope files:write is missing")
	})
	if !strings.HasPrefix(body, "ready\n") {
		t.Errorf("/readyz = %q", body)
	}
}

func TestCheckNamesMissingDiscordPermissionsAndIntents(t *testing.T) {
	fake := discordfake.New(t, map[string]string{dAlice: "alice"})
	e := env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db"), "KLAXON_DISCORD_TOKEN": discordfake.Token,
		"KLAXON_DISCORD_APPLICATION_ID": discordfake.AppID, "KLAXON_DISCORD_GUILD_ID": discordfake.GuildID,
		"KLAXON_DISCORD_API_URL": fake.APIURL(), "KLAXON_DISCORD_GATEWAY_URL": fake.GatewayURL(), "KLAXON_DISCORD_CATEGORY_ID": discordfake.CategoryID}
	if out, err := check(t, e); err != nil || !strings.Contains(out, "discord: ✓") {
		t.Errorf("check with the README's invite = %q, %v; want ✓", out, err)
	}
	fake.SetPermissions(268561488) // the invite URL before Pin Messages
	fake.SetMessageContentIntent(false)
	out, err := check(t, e)
	if err == nil {
		t.Errorf("check exited 0 with a permission and the intent missing:\n%s", out)
	}
	for _, want := range []string{"Pin Messages is missing: pinning the live summary", "Re-invite klaxon", "permissions=2251800082238544", "Message Content Intent"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	// The archive category: a channel that is not a category is named.
	perms, err := discordfake.InvitePermissions()
	if err != nil {
		t.Fatal(err)
	}
	fake.SetPermissions(perms)
	fake.SetMessageContentIntent(true)
	e["KLAXON_DISCORD_ARCHIVE_CATEGORY_ID"] = discordfake.GeneralID
	if out, err := check(t, e); err == nil || !strings.Contains(out, "discord.archive_category_id "+discordfake.GeneralID+" is not a category") {
		t.Errorf("check with a channel as the archive category = %q, %v", out, err)
	}
	e["KLAXON_DISCORD_ARCHIVE_CATEGORY_ID"] = discordfake.ArchiveCategoryID
	if out, err := check(t, e); err != nil || !strings.Contains(out, "discord: ✓") {
		t.Errorf("check with the archive category = %q, %v", out, err)
	}
}

// `klaxon check` asks each tracker whether klaxon can file tickets there,
// also in console mode, and names what is wrong without the token.
func TestCheckTrackers(t *testing.T) {
	gh := trackerfake.NewGitHub("acme/payments", "ghp-check-token")
	defer gh.Close()
	jira := trackerfake.NewJira("OPS", "bot@acme.test", "jira-check-token", "Task")
	defer jira.Close()
	run := func(jiraType string) (string, error) {
		var out bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &bytes.Buffer{}, Getenv: env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db")}.get}
		err := m.Execute(context.Background(), []string{"check", "--config", writeConfig(t, `
trackers:
  - {id: gh, type: github, repo: acme/payments, api_url: `+gh.URL()+`, token: ghp-check-token}
  - {id: jira, type: jira, url: `+jira.URL()+`, email: bot@acme.test, token: jira-check-token, project: OPS, issue_type: `+jiraType+`}
`)})
		return out.String(), err
	}
	if out, err := run("Task"); err != nil || !strings.Contains(out, "tracker gh: ✓") || !strings.Contains(out, "tracker jira: ✓") {
		t.Fatalf("check = %q, %v", out, err)
	}
	gh.DisableIssues("acme/payments")
	out, err := run("Story")
	if err == nil || !strings.Contains(out, "tracker gh: ✗ acme/payments has issues turned off") ||
		!strings.Contains(out, `tracker jira: ✗ project OPS has no issue type "Story" (it has: Task)`) {
		t.Fatalf("check = %q, %v", out, err)
	}
	if strings.Contains(out, "ghp-check-token") || strings.Contains(out, "jira-check-token") {
		t.Error("check printed a token")
	}
}

// TestCheckNotifications: klaxon check reaches Twilio and ntfy and names
// what is wrong with each, sending nothing and printing no secret.
func TestCheckNotifications(t *testing.T) {
	tw := notifytest.NewTwilio()
	defer tw.Close()
	nt := notifytest.NewNtfy()
	defer nt.Close()
	nt.Tokens["tk_klaxon_good"] = true
	run := func(token, from, ntfyToken string) (string, error) {
		var out bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &bytes.Buffer{}, Getenv: env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db")}.get}
		err := m.Execute(context.Background(), []string{"check", "--config", writeConfig(t, `
notifications:
  twilio: {account_sid: `+tw.AccountSID+`, auth_token: "`+token+`", from: "`+from+`", api_url: "`+tw.Server.URL+`"}
  ntfy: {server: "`+nt.Server.URL+`", token: "`+ntfyToken+`"}
`)})
		return out.String(), err
	}
	if out, err := run(tw.AuthToken, tw.Numbers[0], "tk_klaxon_good"); err != nil ||
		!strings.Contains(out, "notifications.twilio: ✓") || !strings.Contains(out, "notifications.ntfy: ✓ the server answers and takes the token") {
		t.Fatalf("check = %q, %v", out, err)
	}
	out, err := run("wrong-twilio-token", tw.Numbers[0], "tk_klaxon_bad")
	if err == nil || !strings.Contains(out, "notifications.twilio: ✗ Twilio refused the credentials") || !strings.Contains(out, "notifications.ntfy: ✗") {
		t.Fatalf("check = %q, %v", out, err)
	}
	if strings.Contains(out, "wrong-twilio-token") || strings.Contains(out, "tk_klaxon_bad") {
		t.Error("check printed a secret")
	}
	if out, err := run(tw.AuthToken, "+14155550199", ""); err == nil || !strings.Contains(out, "+14155550199 is not a number of this Twilio account") {
		t.Fatalf("check = %q, %v", out, err)
	}
	if len(tw.Messages)+len(tw.Calls)+len(nt.Published) != 0 {
		t.Error("check sent something")
	}
}
