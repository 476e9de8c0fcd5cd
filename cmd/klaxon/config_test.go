package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// env is a fake environment for LoadConfig.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func writeConfig(t testing.TB, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // no ./config.yaml here
	cfg, source, err := LoadConfig("", env{}.get)
	if err != nil {
		t.Fatal(err)
	}
	if source != "built-in defaults" || cfg.Store.Path != "./data/klaxon.db" || cfg.Mode() != "console" ||
		cfg.HTTP.Listen != "127.0.0.1:8080" || len(cfg.Incidents.Severities) != 4 || cfg.Incidents.ChannelPattern != "inc-{number}-{slug}" {
		t.Errorf("defaults: source %q, %+v", source, cfg)
	}
}

func TestConfigReadsConfigYamlInWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile(filepath.Join(dir, "config.yaml"), []byte("store:\n  path: here.db\n"), 0o600)
	cfg, source, err := LoadConfig("", env{}.get)
	if err != nil || source != "config.yaml" || cfg.Store.Path != "here.db" {
		t.Errorf("LoadConfig = %+v, %q, %v", cfg, source, err)
	}
}

func TestConfigExampleIsValid(t *testing.T) {
	cfg, _, err := LoadConfig("../../config.example.yaml", env{}.get)
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if cfg.Mode() != "console" || cfg.Incidents.HighlightEmoji[0] != "📌" {
		t.Errorf("example config = %+v", cfg)
	}
	// Every key klaxon reads is documented in the example.
	data, _ := os.ReadFile("../../config.example.yaml")
	for _, key := range allKeys(t) {
		leaf := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(string(data), leaf+":") {
			t.Errorf("config.example.yaml does not document %s", key)
		}
	}
}

func allKeys(t *testing.T) []string {
	t.Helper()
	v := newViper()
	return v.AllKeys()
}

func TestEnvironmentOverridesFile(t *testing.T) {
	path := writeConfig(t, "store:\n  path: file.db\nlog:\n  level: debug\n")
	cfg, _, err := LoadConfig(path, env{
		"KLAXON_STORE_PATH":                "env.db",
		"KLAXON_SLACK_APP_TOKEN":           "xapp-1-secret-app",
		"KLAXON_SLACK_BOT_TOKEN":           "xoxb-secret-bot",
		"KLAXON_INCIDENTS_HIGHLIGHT_EMOJI": "pushpin,eyes",
	}.get)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Path != "env.db" || cfg.Log.Level != "debug" || cfg.Slack.BotToken.Reveal() != "xoxb-secret-bot" || cfg.Mode() != "slack" {
		t.Errorf("cfg = %+v", cfg)
	}
	if got := strings.Join(cfg.Incidents.HighlightEmoji, " "); got != "pushpin eyes" {
		t.Errorf("highlight_emoji from env = %q", got)
	}
	// Secrets never print.
	for _, shown := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg.Slack), cfg.Slack.BotToken.String()} {
		if strings.Contains(shown, "secret") {
			t.Errorf("a token was printed: %s", shown)
		}
	}
}

// badConfigs are configurations klaxon must refuse, each with the key its
// error must name. TestBadInputSweep also starts klaxon with each of them
// on a store in use, which must come out unchanged.
var badConfigs = []struct {
	name, yaml string
	env        env
	wantKey    string
}{
	{"unknown top-level key", "stor:\n  path: x\n", nil, "stor"},
	{"unknown nested key", "store:\n  pth: x\n", nil, "store.pth"},
	{"unknown key in a list", "people:\n  - id: alice\n    name: Alice\n    nmae: typo\n", nil, "people[0].nmae"},
	{"bad duration", "store:\n  lock_timeout: soon\n", nil, `store.lock_timeout: time: invalid duration (got "soon")`},
	{"empty store path", "store:\n  path: \"\"\n", nil, "store.path"},
	{"bad listen address", "http:\n  listen: 8080\n", nil, "http.listen"},
	{"bad log level", "log:\n  level: loud\n", nil, "log.level"},
	{"bad log format", "log:\n  format: xml\n", nil, "log.format"},
	{"half a slack config", "slack:\n  bot_token: xoxb-1\n", nil, "slack.app_token"},
	{"wrong slack token kind", "slack:\n  app_token: xoxb-1\n  bot_token: xoxb-1\n", nil, "slack.app_token"},
	{"bad slack url", "slack:\n  api_url: not a url\n", nil, "slack.api_url"},
	{"discord without ids", "discord:\n  token: abc\n", nil, "discord.application_id"},
	{"bad gateway scheme", "discord:\n  gateway_url: https://x\n", nil, "discord.gateway_url"},
	{"older discord api", "discord:\n  api_url: https://discord.com/api/v9/\n", nil, "discord.api_url: names Discord API v9; klaxon speaks v10"},
	{"pattern without number", "incidents:\n  channel_pattern: inc-{slug}\n", nil, "incidents.channel_pattern"},
	{"call link not a URL", "incidents:\n  call_url: meet {channel}\n", nil, "incidents.call_url"},
	{"call link with an unknown placeholder", "incidents:\n  call_url: https://meet.example/{room}\n", nil, "incidents.call_url"},
	{"bad severity", "incidents:\n  severities:\n    - {name: P1, priority: urgent}\n", nil, "incidents.severities"},
	{"bad role", "incidents:\n  roles: [Scribe Two]\n", nil, "incidents.roles[0]"},
	{"person without name", "people:\n  - id: alice\n", nil, "people[0]"},
	{"duplicate person", "people:\n  - {id: a, name: A}\n  - {id: a, name: B}\n", nil, "people[1].id"},
	{"bad time zone", "people:\n  - {id: a, name: A, time_zone: Mars/Olympus}\n", nil, "people[0].time_zone"},
	{"bad service id", "services:\n  - id: Payments API\n", nil, "services[0]"},
	{"unknown tracker type", "trackers:\n  - {id: t, type: linear, token: x}\n", nil, "trackers[0].type"},
	{"tracker without token", "trackers:\n  - {id: t, type: github, repo: a/b}\n", nil, "trackers[0].token"},
	{"github repo not owner/name", "trackers:\n  - {id: t, type: github, repo: payments, token: x}\n", nil, "trackers[0].repo"},
	{"jira without email", "trackers:\n  - {id: t, type: jira, url: https://acme.atlassian.net, project: OPS, issue_type: Task, token: x}\n", nil, "trackers[0].email"},
	{"jira project not a key", "trackers:\n  - {id: t, type: jira, url: https://acme.atlassian.net, email: a@b.c, project: ops, issue_type: Task, token: x}\n", nil, "trackers[0].project"},
	{"bad private follow-ups", "trackers:\n  - {id: t, type: github, repo: a/b, token: x, private_followups: always}\n", nil, "trackers[0].private_followups"},
	{"owner not in people", "services:\n  - {id: payments, owners: [zed]}\n", nil, "services[0].owners[0]"},
	{"override longer than 90 days", "oncall:\n  max_override: 2400h\n", nil, "oncall.max_override"},
	{"storm window too short", "alerts:\n  storm:\n    window: 5s\n", nil, "alerts.storm.window"},
	{"negative storm cap", "alerts:\n  storm:\n    max_incidents: -1\n", nil, "alerts.storm.max_incidents"},
	{"tracker twice", "trackers:\n  - {id: t, type: github, repo: a/b, token: x}\n  - {id: t, type: github, repo: a/c, token: x}\n", nil, "trackers[1].id"},
	{"unknown default tracker", "followups:\n  tracker: jira\n", nil, "followups.tracker"},
	{"unknown service tracker", "services:\n  - {id: payments, name: Payments, tracker: gh}\n", nil, "services[0].tracker"},
	{"type without name", "incidents:\n  types:\n    - id: security\n", nil, "incidents.types[0]"},
	{"type twice", "incidents:\n  types:\n    - {id: a, name: A}\n    - {id: a, name: B}\n", nil, "incidents.types[1].id"},
	{"field takes an option key", "incidents:\n  types:\n    - id: a\n      name: A\n      fields:\n        - {id: service, label: S, kind: text}\n", nil, "incidents.types[0]: fields[0].id"},
	{"select without options", "incidents:\n  types:\n    - id: a\n      name: A\n      fields:\n        - {id: tier, label: Tier, kind: select}\n", nil, "incidents.types[0]: fields[0].options"},
	{"shared field of two kinds", "incidents:\n  types:\n    - id: a\n      name: A\n      fields:\n        - {id: owner, label: Owner, kind: user}\n    - id: b\n      name: B\n      fields:\n        - {id: owner, label: Owner, kind: text}\n", nil, "incidents.types[1].fields[0].kind"},
	{"unknown field kind", "incidents:\n  types:\n    - id: a\n      name: A\n      fields:\n        - {id: tier, label: Tier, kind: number}\n", nil, "incidents.types[0]: fields[0].kind"},
	{"type with unknown policy", "incidents:\n  types:\n    - {id: a, name: A, escalation_policy: nope}\n", nil, "incidents.types[0].escalation_policy"},
	{"type with bad pattern", "incidents:\n  types:\n    - {id: a, name: A, channel_pattern: sec}\n", nil, "incidents.types[0].channel_pattern"},
	{"route with unknown type", "alerts:\n  routes:\n    - {match: {team: sec}, type: security}\n", nil, "alerts.routes[0].type"},
	{"archive too soon", "incidents:\n  archive_after: 10s\n", nil, "incidents.archive_after"},
	{"sync too often", "followups:\n  sync_every: 1s\n", nil, "followups.sync_every"},
	{"bad env value", "", env{"KLAXON_STORE_LOCK_TIMEOUT": "forever"}, "store.lock_timeout"},
	{"bad console user", "console:\n  user: \"not a user\"\n", nil, "console.user"},
	{"not yaml", "store: [unclosed\n", nil, "config.yaml"},
	{"unknown alert source", "alerts:\n  sources:\n    - name: zabbix\n", nil, "alerts.sources[0].name"},
	{"alert source twice", "alerts:\n  sources:\n    - name: generic\n    - name: generic\n", nil, "alerts.sources[1].name"},
	{"username without password", "alerts:\n  sources:\n    - {name: grafana, username: g}\n", nil, "alerts.sources[0].password"},
	{"short grafana hmac secret", "alerts:\n  sources:\n    - {name: grafana, hmac_secret: x}\n", nil, "alerts.sources[0].hmac_secret: must be at least 16 characters"},
	{"short webhook pager secret", "pagers:\n  - {id: p, type: webhook, url: https://x.example.com, secret: abc}\n", nil, "pagers[0].secret: must be at least 16 characters"},
	{"hmac for alertmanager", "alerts:\n  sources:\n    - {name: alertmanager, hmac_secret: s}\n", nil, "alerts.sources[0].hmac_secret"},
	{"unsigned timestamp without hmac", "alerts:\n  sources:\n    - {name: grafana, token: grafana-token-0123, hmac_without_timestamp: true}\n", nil, "alerts.sources[0].hmac_without_timestamp"},
	{"open source on a public listener", "http:\n  listen: 0.0.0.0:8080\nalerts:\n  sources:\n    - name: generic\n", nil, "alerts.sources[0]: needs a token"},
	{"bad route regexp", "alerts:\n  routes:\n    - {match: {job: \"(\"}, severity: SEV1}\n", nil, "alerts.routes[0].match.job"},
	{"route to unknown service", "services:\n  - id: db\nalerts:\n  routes:\n    - {match: {job: x}, service: web}\n", nil, "alerts.routes[0].service"},
	{"route with bad severity", "alerts:\n  routes:\n    - {match: {job: x}, severity: SEV9}\n", nil, "alerts.routes[0].severity"},
	{"route that does nothing", "alerts:\n  routes:\n    - {match: {job: x}}\n", nil, "alerts.routes[0]"},
	{"bad default severity", "alerts:\n  default_severity: urgent\n", nil, "alerts.default_severity"},
	{"bad heartbeat name", "heartbeats:\n  - {name: Nightly Backup, interval: 1h}\n", nil, "heartbeats[0].name"},
	{"short heartbeat interval", "heartbeats:\n  - {name: etl, interval: 10s}\n", nil, "heartbeats[0].interval"},
	{"heartbeat twice", "heartbeats:\n  - {name: etl, interval: 1h}\n  - {name: etl, interval: 2h}\n", nil, "heartbeats[1].name"},
	{"open heartbeat on a public listener", "http:\n  listen: 0.0.0.0:8080\nheartbeats:\n  - {name: etl, interval: 1h}\n", nil, "heartbeats[0].token"},
	{"heartbeat with bad severity", "heartbeats:\n  - {name: etl, interval: 1h, severity: P0}\n", nil, "heartbeats[0].severity"},
	{"short api token", "api:\n  token: abc\n", nil, "api.token"},
	{"short metrics token", "http:\n  metrics_token: abc\n", nil, "http.metrics_token"},
	{"frame ancestor with a path", "status:\n  frame_ancestors: [\"https://intranet.example.com/wiki\"]\n", nil, "status.frame_ancestors[0]"},
	{"frame ancestor over http", "status:\n  frame_ancestors: [\"http://intranet.example.com\"]\n", nil, "status.frame_ancestors[0]: \"http://intranet.example.com\" must use https"},
	{"bad status url", "status:\n  public_url: status.example.com\n", nil, "status.public_url"},
	{"subscriptions without smtp", "status:\n  subscriptions: true\n  public_url: https://status.example.com\n", nil, "status.subscriptions: needs notifications.smtp"},
	{"subscriptions without a public url", "status:\n  subscriptions: true\nnotifications:\n  smtp: {host: mail.example.com, port: 587, from: s@example.com}\n", nil, "status.subscriptions: needs status.public_url"},
	{"subscriptions without a link secret", "status:\n  subscriptions: true\n  public_url: https://status.example.com\nnotifications:\n  smtp: {host: mail.example.com, port: 587, from: s@example.com}\n", nil, "notifications.link_secret"},
	{"bad working hours", "people:\n  - {id: a, name: A, working_hours: {days: [funday]}}\n", nil, "people[0].working_hours.days"},
	{"working hours that end before they start", "people:\n  - {id: a, name: A, working_hours: {from: \"18:00\", to: \"09:00\"}}\n", nil, "people[0].working_hours: to must be after from"},
	{"bad trusted proxy", "http:\n  trusted_proxies: [10.0.0.0/33]\n", nil, "http.trusted_proxies[0]"},
	{"short alert token on a public listener", "http:\n  listen: 0.0.0.0:8080\nalerts:\n  sources:\n    - {name: generic, token: x}\n", nil, "alerts.sources[0].token"},
	{"short heartbeat token on a public listener", "http:\n  listen: 0.0.0.0:8080\nheartbeats:\n  - {name: etl, interval: 1h, token: x}\n", nil, "heartbeats[0].token"},
	{"short feed token on a public listener", "http:\n  listen: 0.0.0.0:8080\npeople:\n  - {id: a, name: A, feed_token: x}\n", nil, "people[0].feed_token"},
	{"hook without secret", "hooks:\n  - {id: t, url: https://x.example.com, events: [incident.declared]}\n", nil, "hooks[0].secret"},
	{"hook with unknown event", "hooks:\n  - {id: t, url: https://x.example.com, events: [incident.exploded], secret: 0123456789abcdef}\n", nil, "hooks[0].events[0]"},
	{"hook with bad url", "hooks:\n  - {id: t, url: ftp://x, events: [\"*\"], secret: 0123456789abcdef}\n", nil, "hooks[0].url"},
	{"hook url with a token", "hooks:\n  - {id: t, url: \"ftp://u:pw-SECRET@x.example.com/h?token=SECRET\", events: [\"*\"], secret: 0123456789abcdef}\n", nil, "hooks[0].url: \"ftp://x.example.com/h?…\" must use https or http"},
	{"alert platform not connected", "alerts:\n  platform: slack\n", nil, "alerts.platform"},
	{"step delay too short", "people:\n  - {id: a, name: A}\nescalation_policies:\n  - {id: p, steps: [{delay: 5s, targets: [{person: a}]}]}\n", nil, "escalation_policies[0]"},
	{"unknown pager type", "pagers:\n  - {id: p, type: carrier-pigeon, url: https://x.example.com}\n", nil, "pagers[0].type"},
	{"a pager named like a contact method", "pagers:\n  - {id: sms, type: webhook, url: https://x.example.com, secret: 0123456789abcdef0123}\n", nil, "pagers[0].id"},
	{"phone not E.164", "people:\n  - {id: a, name: A, contact: {sms: \"0171 555 0100\"}}\n", nil, "people[0].contact.sms: \"0171 555 0100\" is not an E.164 phone number"},
	{"bad email contact", "people:\n  - {id: a, name: A, contact: {email: \"Alice <a@x>\"}}\n", nil, "people[0].contact.email"},
	{"unknown method in a rule", "people:\n  - {id: a, name: A, notify: [\"pigeon 1m\"]}\n", nil, "people[0].notify[0]: \"pigeon\" is not a contact method"},
	{"rule without a delay", "notifications:\n  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: t0k, from: \"+14155550100\"}\npeople:\n  - {id: a, name: A, notify: [\"sms\"]}\n", nil, "people[0].notify[0]: \"sms\" has no delay"},
	{"rule for a method without a provider", "people:\n  - {id: a, name: A, notify: [\"voice 5m\"]}\n", nil, "people[0].notify[0]: voice needs its provider configured under notifications (notifications.twilio)"},
	{"two rules for one method", "notifications:\n  default_rules: [\"sms 0m\", \"sms 5m\"]\n  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: t0k, from: \"+14155550100\"}\n", nil, "notifications.default_rules[1]"},
	{"bad twilio sid", "notifications:\n  twilio: {account_sid: AB1, auth_token: x, from: \"+14155550100\"}\n", nil, "notifications.twilio.account_sid"},
	{"twilio from not E.164", "notifications:\n  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: x, from: \"555\"}\n", nil, "notifications.twilio.from"},
	{"public url without a link secret", "http:\n  public_url: https://k.example.com\nnotifications:\n  twilio: {account_sid: AC0123456789abcdef0123456789abcdef, auth_token: t0k, from: \"+14155550100\"}\n", nil, "notifications.link_secret"},
	{"web console without a public url", "web:\n  oidc: {issuer: https://idp.example.com, client_id: k}\n  session_secret: 0123456789abcdef0123456789abcdef\n", nil, "http.public_url"},
	{"web console without a session secret", "http:\n  public_url: https://k.example.com\nweb:\n  oidc: {issuer: https://idp.example.com, client_id: k}\n", nil, "web.session_secret"},
	{"bad web.unknown_people", "http:\n  public_url: https://k.example.com\nweb:\n  oidc: {issuer: https://idp.example.com, client_id: k}\n  session_secret: 0123456789abcdef0123456789abcdef\n  unknown_people: maybe\n", nil, "web.unknown_people"},
	{"web client id without an issuer", "web:\n  oidc: {client_id: k}\n", nil, "web.oidc.issuer"},
	{"bad smtp security", "notifications:\n  smtp: {host: mail.example.com, security: ssl3, from: k@example.com}\n", nil, "notifications.smtp.security"},
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	for _, tt := range badConfigs {
		path := writeConfig(t, tt.yaml)
		_, _, err := LoadConfig(path, tt.env.get)
		if err == nil {
			t.Errorf("%s: loaded without error", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantKey) {
			t.Errorf("%s: error %q does not name %s", tt.name, err, tt.wantKey)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error %q shows a secret", tt.name, err)
		}
	}
}

func TestConfigErrorsDoNotShowSecrets(t *testing.T) {
	for _, yaml := range []string{
		"slack:\n  app_token: xoxp-very-secret\n  bot_token: xoxb-also-secret\n",
		"slack:\n  bot_token: [xoxb-very-secret]\n", // wrong type: the value must not be echoed
	} {
		_, _, err := LoadConfig(writeConfig(t, yaml), env{}.get)
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("err = %v; want an error that does not show the token", err)
		}
	}
}

const scheduleYAML = `
people:
  - {id: alice, name: Alice, time_zone: Europe/Berlin}
  - {id: bob, name: Bob}
services:
  - {id: payments}
schedules:
  - id: payments-primary
    service: payments
    time_zone: Europe/Berlin
    layers:
      - name: weekly
        rotation: weekly
        start: 2026-11-16
        handoff: "09:00"
        participants: [alice, bob]
      - name: business hours
        rotation: daily
        start: 2026-11-16
        participants: [bob]
        restrictions:
          - {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
`

func TestScheduleConfig(t *testing.T) {
	cfg, _, err := LoadConfig(writeConfig(t, scheduleYAML), env{}.get)
	if err != nil {
		t.Fatal(err)
	}
	ss := cfg.schedules() // built once, by LoadConfig's validation
	if len(ss) != 1 {
		t.Fatalf("schedules = %v", ss)
	}
	s := ss[0]
	if s.Role != "primary" || s.Location.String() != "Europe/Berlin" || len(s.Layers) != 2 || s.Layers[0].Rotation.Days != 7 || s.Layers[1].Rotation.Days != 1 {
		t.Errorf("schedule = %+v", s)
	}
	if r := s.Layers[1].Restrictions[0]; !r.Days[1] || r.Days[0] || r.From != 9*60 || r.To != 17*60 {
		t.Errorf("restriction = %+v", r)
	}
	bad := []struct{ replace, with, key string }{
		{"time_zone: Europe/Berlin\n    layers", "time_zone: Mars/Base\n    layers", "schedules[0].time_zone"},
		{"participants: [alice, bob]", "participants: [alice, zed]", "schedules[0].layers[0].participants[1]"},
		{"rotation: weekly", "rotation: fortnightly", "schedules[0]"},
		{"start: 2026-11-16\n        handoff", "start: someday\n        handoff", "schedules[0].layers[0].start"},
		{`handoff: "09:00"`, `handoff: "9am"`, "schedules[0].layers[0].handoff"},
		{"days: [mon,", "days: [funday,", "schedules[0].layers[1].restrictions[0].days"},
		{"service: payments\n    time_zone", "service: billing\n    time_zone", "schedules[0].service"},
		{"name: weekly", "nmae: weekly", "schedules[0].layers[0].nmae"},
		{"service: payments\n    time_zone", "service: payments\n    slack_user_group: Payments On Call\n    time_zone", "schedules[0].slack_user_group"},
		{"service: payments\n    time_zone", "service: payments\n    discord_role: payments-oncall\n    time_zone", "schedules[0].discord_role"},
	}
	for _, b := range bad {
		y := strings.Replace(scheduleYAML, b.replace, b.with, 1)
		if y == scheduleYAML {
			t.Fatalf("test bug: %q not found", b.replace)
		}
		if _, _, err := LoadConfig(writeConfig(t, y), env{}.get); err == nil || !strings.Contains(err.Error(), b.key) {
			t.Errorf("%s → %s: err = %v; want it to name %s", b.replace, b.with, err, b.key)
		}
	}
}

func TestConsoleOnCall(t *testing.T) {
	k := newKlaxon(t, scheduleYAML)
	out, logs, err := k.run("/oncall payments\n/oncall override @bob now 2h\n/oncall payments\n", "run")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	if !strings.Contains(out, "📟 On call now") || !strings.Contains(out, "@bob is on call for *payments-primary*") || !strings.Contains(out, "primary: @bob") {
		t.Errorf("console /oncall:\n%s", out)
	}
}

func TestReminderConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, _, err := LoadConfig("", env{}.get)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.commandsConfig()
	// viper lower-cases map keys; klaxon maps them back onto the scale.
	if cc.UpdateEvery["SEV1"] != 30*time.Minute || cc.UpdateEvery["SEV2"] != time.Hour || cc.UpdateEvery["SEV3"] != 0 || cc.CommanderNag != 5*time.Minute {
		t.Errorf("defaults: %v, nag %v", cc.UpdateEvery, cc.CommanderNag)
	}
	_, _, err = LoadConfig(writeConfig(t, "incidents:\n  update_reminders: {SEV9: 10m}\n"), env{}.get)
	if err == nil || !strings.Contains(err.Error(), "incidents.update_reminders.sev9") {
		t.Errorf("unknown severity: %v", err)
	}
}

// klaxon warns about a config file others can read when it holds secrets,
// an open /metrics on a listener other machines reach, and a meeting link
// anyone can guess.
func TestConfigWarnings(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		mode       os.FileMode
		want       []string
	}{
		{"quiet", "api:\n  token: api-token-0123456789\n", 0o600, nil},
		{"readable secrets", "api:\n  token: api-token-0123456789\n", 0o644, []string{"holds secrets and is readable by others (mode 0644): chmod 600"}},
		{"readable, no secrets", "status:\n  title: Acme\n", 0o644, nil},
		{"open metrics", "http:\n  listen: 0.0.0.0:8080\n", 0o600, []string{"/metrics is open on 0.0.0.0:8080"}},
		{"guessable room", "incidents:\n  call_url: https://meet.example.com/{channel}\n", 0o600, []string{"incidents.call_url has no {secret}"}},
		{"nobody reaches carol", "people:\n  - {id: bob, name: Bob}\n  - {id: carol, name: Carol}\nschedules:\n  - {id: s, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [bob, carol]}]}\npagers:\n  - {id: dm, type: chat, people: [bob]}\n",
			0o600, []string{"no pager and no notification rule reaches carol, who can be paged"}},
		{"carol's own rule reaches her", "people:\n  - {id: bob, name: Bob}\n  - {id: carol, name: Carol, contact: {push: carol-p}, notify: [\"push 0m\"]}\nschedules:\n  - {id: s, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [bob, carol]}]}\npagers:\n  - {id: dm, type: chat, people: [bob]}\nnotifications:\n  ntfy: {server: https://ntfy.example.com}\n",
			0o600, nil},
		{"carol's topic but no rule", "people:\n  - {id: bob, name: Bob}\n  - {id: carol, name: Carol, contact: {push: carol-p}}\nschedules:\n  - {id: s, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [bob, carol]}]}\npagers:\n  - {id: dm, type: chat, people: [bob]}\nnotifications:\n  ntfy: {server: https://ntfy.example.com}\n",
			0o600, []string{"no pager and no notification rule reaches carol"}},
	} {
		path := writeConfig(t, tt.yaml)
		if err := os.Chmod(path, tt.mode); err != nil {
			t.Fatal(err)
		}
		cfg, source, err := LoadConfig(path, env{}.get)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := configWarnings(cfg, source)
		if len(got) != len(tt.want) {
			t.Errorf("%s: warnings %q; want %d", tt.name, got, len(tt.want))
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: warning %q lacks %q", tt.name, got[i], w)
			}
		}
		for _, g := range got {
			if strings.Contains(g, "api-token-0123456789") {
				t.Errorf("%s: a warning shows a secret: %s", tt.name, g)
			}
		}
	}
}
