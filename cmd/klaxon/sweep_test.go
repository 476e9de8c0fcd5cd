package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/discord/discordfake"
	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

const sweepConfig = `
people:
  - {id: alice, name: Alice, slack_id: U0ALICE}
  - {id: bob, name: Bob, slack_id: U0BOB}
services:
  - {id: payments, tracker: hop}
schedules:
  - {id: payments-primary, service: payments, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [alice, bob]}]}
followups:
  tracker: echo
  sync_every: 1h
trackers:
  - {id: echo, type: github, repo: acme/payments, api_url: "ECHO_URL", token: ghp_sweepSECRETtoken0123}
  - {id: hop, type: github, repo: acme/payments, api_url: "HOP_URL", token: ghp_sweepHOPtoken0123}
alerts:
  sources:
    - {name: alertmanager, token: sweep-alert-token-0123}
    - {name: grafana, token: sweep-grafana-token-0123, hmac_secret: sweep-grafana-hmac-0123}
    - {name: generic, token: sweep-generic-token-0123}
api:
  token: sweep-api-read-token-0123
  admin_token: sweep-api-admin-token-0123
heartbeats:
  - {name: etl, interval: 1h, token: sweep-heartbeat-token-0123}
`

// sweepConfigFor is sweepConfig with its trackers at echo and hop.
func sweepConfigFor(echo, hop string) string {
	return strings.NewReplacer("ECHO_URL", echo, "HOP_URL", hop).Replace(sweepConfig)
}

// TestBadInputSweep sends hostile input through every entry point: slash
// commands, buttons and modals over Socket Mode, the alert, heartbeat and
// API endpoints, and the configuration. Each must get a clear error, and
// the store must hold exactly what it held before (a digest of every key
// and value, read through the online backup).
func TestBadInputSweep(t *testing.T) {
	fake := newFake(t)
	db := filepath.Join(t.TempDir(), "klaxon.db")
	// Trackers that misbehave: one echoes the credentials it was sent in
	// its refusal, one redirects to a host that should never be reached.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"message":"Forbidden %s"}`, r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	var reached atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer elsewhere.Close()
	hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer hop.Close()
	config := sweepConfigFor(echo.URL, hop.URL)
	k := &slackKlaxon{fake: fake, db: db, running: runKlaxon(t, config, env{
		"KLAXON_STORE_PATH": db, "KLAXON_SLACK_APP_TOKEN": fake.AppToken, "KLAXON_SLACK_BOT_TOKEN": fake.BotToken,
		"KLAXON_SLACK_API_URL": fake.URL(), "KLAXON_SLACK_ANNOUNCE_CHANNEL": "C0INCIDENTS",
	})}
	k.waitFor("klaxon to connect", fake.Connected)
	base := "http://" + k.httpAddr()

	// Something to lose: an incident with its channel, summary and updates.
	// (No service: paging would write on its own schedule.)
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Checkout is down" sev:2`))
	k.waitFor("the incident channel", func() bool { cs := fake.Channels(); return len(cs) == 1 && len(cs[0].Pins) == 1 })
	k.waitFor("the declarer's confirmation", func() bool { return len(fake.Replies()) == 1 })
	channel := fake.Channels()[0]
	summary := channel.Pins[0]
	incidentID := buttonValue(t, fake, channel.ID, summary, bot.ActionUpdate)
	// And a private incident bob is not in.
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Leaked key" sev:2 private`))
	k.waitFor("the private channel", func() bool { c, ok := fake.ChannelByName("inc-2-leaked-key"); return ok && len(c.Pins) == 1 })
	// A follow-up of the private incident (private incidents' follow-ups
	// go to no tracker by default).
	private, _ := fake.ChannelByName("inc-2-leaked-key")
	k.ack(fake.SlashCommand(alice, private.ID, "/incident", "followup Rotate the leaked key"))
	k.waitFor("the private follow-up, with no ticket", func() bool {
		for _, m := range fake.Messages(private.ID) {
			if strings.Contains(m.Rendered(), "No ticket in echo") {
				return true
			}
		}
		return false
	})
	k.ack(fake.SlashCommand(alice, channel.ID, "/incident", "update rolling back"))
	k.waitFor("the update", func() bool {
		for _, m := range fake.Messages(channel.ID) {
			if strings.Contains(m.Rendered(), "posted an update: rolling back") {
				return true
			}
		}
		return false
	})
	waitOutboxIdle(t, k.running, fake, base, "slack")
	before := storeDigest(t, base)

	unchanged := func(what string) {
		t.Helper()
		if after := storeDigest(t, base); after != before {
			t.Errorf("%s changed the store", what)
		}
	}

	long := strings.Repeat("x", 151)
	for _, c := range []struct {
		channel, text string
		want          string // in the reply
		user          string // default alice
	}{
		{"C0GENERAL", `declare "Checkout is down`, "quote", ""},
		{"C0GENERAL", "declare " + long, "the limit is 150", ""},
		{"C0GENERAL", "declare Checkout sev:9", `"9" is not a severity`, ""},
		{"C0GENERAL", "declare Checkout service:nonexistent", "nonexistent", ""},
		{"C0GENERAL", "declare Checkout \x00\x07 down", "control", ""},
		{"C0GENERAL", "declare " + strings.Repeat("word ", 2000), "the limit is 8000", ""},
		{"C0GENERAL", "frobnicate", "is not a command", ""},
		{"C0GENERAL", "resolve", "not an incident channel", ""},
		{"C0GENERAL", "resolve INC-999", "INC-999", ""},
		{"C0GENERAL", "mitigate INC-0", "Usage", ""},
		{channel.ID, "sev 7", `"7" is not a severity`, ""},
		{channel.ID, "update", "Usage", ""},
		{channel.ID, "update " + strings.Repeat("y", 3001), "the limit is 3000", ""},
		{channel.ID, "role wizard <@" + bob + ">", "wizard", ""},
		{channel.ID, "page <@U0NOBODY>", "U0NOBODY", ""},
		{channel.ID, "page nonexistent", "nonexistent", ""},
		{channel.ID, "ack now", "takes no text", ""},
		{channel.ID, "followup", "Usage", ""},
		{channel.ID, "followup check the logs due:2026-13-45", "needs a date", ""},
		{channel.ID, "note", "Usage", ""},
		// bob is not in the private INC-2: he can neither read it nor join it.
		{"C0GENERAL", "role INC-2 scribe <@" + bob + ">", "INC-2 is private", bob},
		{"C0GENERAL", "note INC-2 let me in", "INC-2 is private", bob},
		{"C0GENERAL", "status INC-2", "INC-2 is private", bob},
	} {
		user := alice
		if c.user != "" {
			user = c.user
		}
		if got := say(k, user, c.channel, "/incident "+c.text); !strings.Contains(got, c.want) || strings.Contains(got, "Leaked") {
			t.Errorf("/incident %.60q: reply %q; want it to mention %q", c.text, got, c.want)
		}
		unchanged("/incident " + c.text)
	}
	for _, c := range []struct{ text, want string }{
		{"override <@" + bob + "> whenever never", "Usage"},
		{"override <@U0NOBODY> 2h", "Usage"},
		{"cover <@" + bob + "> forever", "forever"},
		{"swap next tuesday maybe", "Usage"},
		{"undo", "no on-call change left to undo"},
		{"history nonexistent", "nonexistent"},
	} {
		if got := say(k, alice, channel.ID, "/oncall "+c.text); !strings.Contains(got, c.want) {
			t.Errorf("/oncall %q: reply %q; want it to mention %q", c.text, got, c.want)
		}
		unchanged("/oncall " + c.text)
	}
	// An outsider: a stranger changing on-call, bob (not in the private
	// incident) reading and closing its follow-up.
	for _, c := range []struct{ user, text, want string }{
		{"U0MALLORY", "/oncall override <@" + bob + "> now 2160h payments-primary", "Only people klaxon knows"},
		{"U0MALLORY", "/oncall undo payments-primary", "no on-call change left to undo"},
		{bob, "/followup done F-1", "private"},
		{bob, "/followups all", "No follow-ups yet."},
	} {
		if got := say(k, c.user, "C0GENERAL", c.text); !strings.Contains(got, c.want) || strings.Contains(got, "leaked key") {
			t.Errorf("%s as %s: reply %q; want it to mention %q", c.text, c.user, got, c.want)
		}
		unchanged(c.text + " as " + c.user)
	}

	// Buttons that name no incident, or one that does not exist.
	for _, value := range []string{"not-an-id", "01a1fd49-2b49-7e1d-8803-fa398d00792d", ""} {
		n := len(fake.Replies())
		k.ack(fake.ClickButton(alice, channel.ID, summary, bot.ActionResolve, value))
		k.waitFor("an answer to a bad button", func() bool { return len(fake.Replies()) > n })
		if got := fake.Replies()[n].Text; !strings.Contains(got, "incident") {
			t.Errorf("resolve button with value %q: reply %q", value, got)
		}
		unchanged(fmt.Sprintf("a resolve button with value %q", value))
	}

	// Modals: the declaration form and the forms behind the summary's
	// buttons, each submitted with values the form refuses.
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", "declare"))
	for _, action := range []string{bot.ActionUpdate, bot.ActionSeverity, bot.ActionResolve} {
		k.ack(fake.ClickButton(alice, channel.ID, summary, action, incidentID))
	}
	k.waitFor("four forms", func() bool { return len(fake.Views()) == 4 })
	views := map[string]string{}
	for _, v := range fake.Views() {
		views[fmt.Sprint(v.View["callback_id"])] = v.ID
	}
	for _, c := range []struct {
		form   string
		values map[string]string
		field  string // the field the error must be shown on
	}{
		{"klaxon.declare", map[string]string{"title": "  ", "severity": "SEV1"}, "title"},
		{"klaxon.declare", map[string]string{"title": long, "severity": "SEV1"}, "title"},
		{"klaxon.declare", map[string]string{"title": "Checkout", "severity": "SEV9"}, "severity"},
		{"klaxon.declare", map[string]string{"title": "Checkout", "severity": "SEV1", "service": "nonexistent"}, "service"},
		{"klaxon.update", map[string]string{"text": ""}, "text"},
		{"klaxon.update", map[string]string{"text": strings.Repeat("z", 3001)}, "text"},
		{"klaxon.severity", map[string]string{"severity": "SEV0"}, "severity"},
		{"klaxon.resolve", map[string]string{"summary": strings.Repeat("z", 3001)}, "summary"},
	} {
		id, ok := views[c.form]
		if !ok {
			t.Fatalf("no %s form among %v", c.form, views)
		}
		env, err := fake.SubmitView(alice, id, c.values)
		if err != nil {
			t.Fatal(err)
		}
		var ack struct {
			ResponseAction string            `json:"response_action"`
			Errors         map[string]string `json:"errors"`
		}
		if err := json.Unmarshal(k.ack(env), &ack); err != nil || ack.ResponseAction != "errors" || ack.Errors[c.field] == "" {
			t.Errorf("%s with %.80v: ack %+v (%v); want an error on %s", c.form, c.values, ack, err, c.field)
		}
		unchanged(fmt.Sprintf("%s with %.80v", c.form, c.values))
	}

	// Webhooks and the API: a 4xx with a reason, never a 5xx.
	big := `{"version":"4","alerts":[{"labels":{"x":"` + strings.Repeat("a", 2<<20) + `"}}]}`
	for _, c := range []struct {
		method, path, auth, body string
		header                   map[string]string
		want                     int
		reason                   string
	}{
		{"POST", "/alerts/alertmanager", "", `{"version":"4","alerts":[]}`, nil, 401, "credentials"},
		{"POST", "/alerts/alertmanager", "Bearer wrong", `{"version":"4","alerts":[]}`, nil, 401, "credentials"},
		{"POST", "/alerts/alertmanager", "Bearer sweep-alert-token-0123", `{"version":"4","alerts":[`, nil, 400, "JSON"},
		{"POST", "/alerts/alertmanager", "Bearer sweep-alert-token-0123", `{"version":"3","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"x"}}]}`, nil, 400, "version"},
		{"POST", "/alerts/alertmanager", "Bearer sweep-alert-token-0123", `[1,2,3]`, nil, 400, ""},
		{"POST", "/alerts/alertmanager", "Bearer sweep-alert-token-0123", big, nil, 413, "large"},
		{"POST", "/alerts/generic", "Bearer sweep-generic-token-0123", `{"severity":"SEV1","dedup_key":"k","status":"firing"}`, nil, 400, "title"},
		{"POST", "/alerts/generic", "Bearer sweep-generic-token-0123", `{"title":"x","dedup_key":"k","status":"exploded"}`, nil, 400, "status"},
		{"POST", "/alerts/generic", "Bearer sweep-generic-token-0123", `{"title":"x","dedup_key":"k","status":"firing","surprise":1}`, nil, 400, "surprise"},
		{"POST", "/alerts/grafana", "Bearer sweep-grafana-token-0123", `{"status":"firing","alerts":[]}`,
			map[string]string{"X-Grafana-Alerting-Signature": "deadbeef"}, 401, "signature"},
		{"POST", "/alerts/zabbix", "Bearer sweep-alert-token-0123", `{}`, nil, 404, ""},
		{"POST", "/heartbeat/etl", "Bearer wrong", "", nil, 401, ""},
		{"POST", "/heartbeat/nonexistent", "Bearer sweep-heartbeat-token-0123", "", nil, 404, ""},
		{"GET", "/api/v1/incidents", "", "", nil, 401, ""},
		{"GET", "/api/v1/incidents/999", "Bearer sweep-api-read-token-0123", "", nil, 404, ""},
		{"GET", "/api/v1/incidents/abc", "Bearer sweep-api-read-token-0123", "", nil, 400, ""},
		{"GET", "/api/v1/incidents?limit=-5", "Bearer sweep-api-read-token-0123", "", nil, 400, "limit"},
		{"GET", "/api/v1/backup", "Bearer sweep-api-read-token-0123", "", nil, 403, "needs admin"},
		{"GET", "/oncall/nonexistent.ics", "", "", nil, 404, ""},
		// Bounds and private incidents (issue 17).
		{"GET", "/api/v1/incidents/1/timeline?after=18446744073709551615", "Bearer sweep-api-read-token-0123", "", nil, 400, "after"},
		{"GET", "/api/v1/incidents/2", "Bearer sweep-api-read-token-0123", "", nil, 404, ""}, // private
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		req.Header.Set("Content-Type", "application/json")
		for h, v := range c.header {
			req.Header.Set(h, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || !strings.Contains(strings.ToLower(string(body)), strings.ToLower(c.reason)) || len(strings.TrimSpace(string(body))) == 0 {
			t.Errorf("%s %s (%.40s): %d %q; want %d with a reason mentioning %q", c.method, c.path, c.body, resp.StatusCode, body, c.want, c.reason)
		}
		unchanged(fmt.Sprintf("%s %s (%.40s)", c.method, c.path, c.body))
	}
	// The digest does see writes: a valid note changes it.
	if got := say(k, alice, channel.ID, "/incident note the sweep is over"); !strings.Contains(got, "Noted") {
		t.Fatalf("note: %q", got)
	}
	if storeDigest(t, base) == before {
		t.Error("a note left the store digest as it was: the checks above prove nothing")
	}

	// A follow-up to the echoing tracker: refused, and the token it echoed
	// reaches neither the channel nor (read below) the store.
	k.ack(fake.SlashCommand(alice, channel.ID, "/incident", "followup Add a circuit breaker"))
	k.waitFor("the echoing tracker's refusal", func() bool {
		for _, m := range fake.Messages(channel.ID) {
			if strings.Contains(m.Rendered(), "refused") {
				return true
			}
		}
		return false
	})
	// One to the redirecting tracker: refused, naming where it pointed.
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Refunds are slow" service:payments`))
	k.waitFor("the payments incident", func() bool { c, ok := fake.ChannelByName("inc-3-refunds-are-slow"); return ok && len(c.Pins) == 1 })
	payments, _ := fake.ChannelByName("inc-3-refunds-are-slow")
	k.ack(fake.SlashCommand(alice, payments.ID, "/incident", "followup Retry refunds"))
	k.waitFor("the redirecting tracker's refusal", func() bool {
		for _, m := range fake.Messages(payments.ID) {
			if strings.Contains(m.Rendered(), "does not follow redirects") {
				return true
			}
		}
		return false
	})
	if n := reached.Load(); n != 0 {
		t.Errorf("the tracker's redirect was followed %d times", n)
	}
	for _, c := range fake.Channels() {
		for _, m := range fake.Messages(c.ID) {
			if strings.Contains(m.Rendered(), "ghp_sweep") {
				t.Errorf("a tracker's token reached #%s: %s", c.Name, m.Rendered())
			}
		}
	}
	// A flood: 30 alert groups from one source declare at most 10
	// incidents, and one alert storm takes the rest.
	declared := 0
	for i := range 30 {
		req, _ := http.NewRequest("POST", base+"/alerts/generic", strings.NewReader(fmt.Sprintf(`{"title":"disk %d full","dedup_key":"flood-%d","status":"firing"}`, i, i)))
		req.Header.Set("Authorization", "Bearer sweep-generic-token-0123")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var receipt bot.AlertReceipt
		json.NewDecoder(resp.Body).Decode(&receipt)
		resp.Body.Close()
		declared += receipt.Declared
	}
	if declared != 11 {
		t.Errorf("30 alert groups declared %d incidents; want 10 and one alert storm", declared)
	}
	k.stop()
	if data, err := os.ReadFile(db); err != nil || bytes.Contains(data, []byte("ghp_sweep")) {
		t.Errorf("a tracker's token is in the store (%v)", err)
	}

	// Nothing written late either: the file, read after a clean stop.
	final := fileDigest(t, db)
	// The configuration: klaxon refuses to start on the store it used,
	// names the key, and leaves the file as it was.
	for _, c := range badConfigs {
		if strings.Contains(c.wantKey, "store.") {
			continue // these set the store itself
		}
		e := env{"KLAXON_STORE_PATH": db}
		maps.Copy(e, c.env)
		logs := &syncBuffer{}
		m := &Main{Stdin: strings.NewReader(""), Stdout: logs, Stderr: logs, Getenv: e.get}
		err := m.Execute(context.Background(), []string{"run", "--config", writeConfig(t, c.yaml)})
		if err == nil || !strings.Contains(err.Error(), c.wantKey) {
			t.Errorf("config %q: klaxon run returned %v; want an error naming %s", c.name, err, c.wantKey)
		}
		if fileDigest(t, db) != final {
			t.Errorf("config %q: the store changed", c.name)
		}
	}
}

// say runs a slash command as user and returns klaxon's answer, whether it
// came in the acknowledgement or through the response URL.
func say(k *slackKlaxon, user, channel, command string) string {
	k.t.Helper()
	name, text, _ := strings.Cut(command, " ")
	n := len(k.fake.Replies())
	payload := k.ack(k.fake.SlashCommand(user, channel, name, text))
	var inAck struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(payload, &inAck) == nil && inAck.Text != "" {
		return inAck.Text
	}
	k.waitFor("the answer to "+command, func() bool { return len(k.fake.Replies()) > n })
	return k.fake.Replies()[n].Text
}

// buttonValue finds the value of the button actionID on a message.
func buttonValue(t *testing.T, fake *slackfake.Server, channel, ts, actionID string) string {
	t.Helper()
	m, ok := fake.Message(channel, ts)
	if !ok {
		t.Fatalf("no message %s in %s", ts, channel)
	}
	var walk func(v any) string
	walk = func(v any) string {
		switch v := v.(type) {
		case map[string]any:
			if v["action_id"] == actionID {
				if s, ok := v["value"].(string); ok {
					return s
				}
			}
			for _, x := range v {
				if s := walk(x); s != "" {
					return s
				}
			}
		case []any:
			for _, x := range v {
				if s := walk(x); s != "" {
					return s
				}
			}
		}
		return ""
	}
	var blocks any
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	value := walk(blocks)
	if value == "" {
		t.Fatalf("no %s button on %s", actionID, m.Rendered())
	}
	return value
}

// storeDigest hashes every bucket, key and value of a running klaxon's
// store, read through its online backup.
func storeDigest(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/backup", nil)
	req.Header.Set("Authorization", "Bearer sweep-api-admin-token-0123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("backup: %d", resp.StatusCode)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return fileDigest(t, path)
}

// fileDigest hashes every bucket, key and value of the bbolt file at path.
func fileDigest(t *testing.T, path string) string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := sha256.New()
	var walk func(prefix string, b *bolt.Bucket) error
	walk = func(prefix string, b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return walk(prefix+string(k)+"/", b.Bucket(k))
			}
			fmt.Fprintf(h, "%s%x=%x\n", prefix, k, v)
			return nil
		})
	}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk(string(name)+"/", b) })
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestBadInputSweepDiscord is the sweep's Discord leg: hostile slash
// command options and modal submissions over the gateway, each answered
// with a clear error, the store unchanged.
func TestBadInputSweepDiscord(t *testing.T) {
	fake := discordfake.New(t, map[string]string{dAlice: "alice", dBob: "bob"})
	t.Cleanup(fake.Close)
	db := filepath.Join(t.TempDir(), "k.db")
	k := &discordKlaxon{fake: fake, db: db, running: runKlaxon(t, sweepConfigFor("http://127.0.0.1:9", "http://127.0.0.1:9"), env{
		"KLAXON_STORE_PATH": db, "KLAXON_DISCORD_TOKEN": discordfake.Token, "KLAXON_DISCORD_APPLICATION_ID": discordfake.AppID,
		"KLAXON_DISCORD_GUILD_ID": discordfake.GuildID, "KLAXON_DISCORD_API_URL": fake.APIURL(), "KLAXON_DISCORD_GATEWAY_URL": fake.GatewayURL(),
		"KLAXON_DISCORD_CATEGORY_ID": discordfake.CategoryID, "KLAXON_DISCORD_ANNOUNCE_CHANNEL": discordfake.AnnounceID,
	})}
	k.waitFor("klaxon to connect and register its commands", func() bool { return fake.Connected() && len(fake.Commands()) > 0 })
	base := "http://" + k.httpAddr()
	str := func(name, value string) discordfake.Option {
		return discordfake.Option{Name: name, Type: 3, Value: value}
	}

	if got := k.reply(fake.Command(dAlice, discordfake.GeneralID, "incident", "declare", str("title", "Checkout is down"))); !strings.Contains(got, "INC-1") {
		t.Fatalf("declare: %q", got)
	}
	ch, ok := fake.ChannelByName("inc-1-checkout-is-down")
	if !ok {
		t.Fatal("no incident channel")
	}
	k.waitFor("the pinned summary", func() bool { c, _ := fake.ChannelByName(ch.Name); return len(c.Pins) == 1 })
	waitOutboxIdle(t, k.running, fake, base, "discord")
	before := storeDigest(t, base)

	for _, c := range []struct {
		channel, sub string
		opts         []discordfake.Option
		want         string
	}{
		{discordfake.GeneralID, "declare", []discordfake.Option{str("title", strings.Repeat("x", 151))}, "the limit is 150"},
		{discordfake.GeneralID, "declare", []discordfake.Option{str("title", "Checkout"), str("severity", "9")}, `"9" is not a severity`},
		{discordfake.GeneralID, "declare", []discordfake.Option{str("title", "Checkout"), str("service", "nonexistent")}, "nonexistent"},
		{discordfake.GeneralID, "declare", []discordfake.Option{str("title", "Checkout \x00\x07 down")}, "control"},
		{discordfake.GeneralID, "resolve", nil, "not an incident channel"},
		{discordfake.GeneralID, "resolve", []discordfake.Option{str("incident", "INC-999")}, "INC-999"},
		{ch.ID, "sev", []discordfake.Option{str("level", "7")}, `"7" is not a severity`},
		{ch.ID, "update", []discordfake.Option{str("text", strings.Repeat("y", 3001))}, "the limit is 3000"},
		{ch.ID, "role", []discordfake.Option{str("role", "wizard"), {Name: "person", Type: 6, Value: dBob}}, "wizard"},
		{ch.ID, "followup", []discordfake.Option{str("text", "check the logs"), str("due", "2026-13-45")}, "needs a date"},
		{ch.ID, "page", []discordfake.Option{str("who", "nonexistent")}, "nonexistent"},
	} {
		if got := k.reply(fake.Command(dAlice, c.channel, "incident", c.sub, c.opts...)); !strings.Contains(got, c.want) {
			t.Errorf("/incident %s %v: reply %q; want it to mention %q", c.sub, c.opts, got, c.want)
		}
		if storeDigest(t, base) != before {
			t.Errorf("/incident %s %v changed the store", c.sub, c.opts)
		}
	}

	// The declaration modal, submitted with what it refuses.
	rs := k.responses(fake.Command(dAlice, discordfake.GeneralID, "incident", "declare"), 1)
	form, _ := rs[0].Data["custom_id"].(string)
	for _, values := range []map[string]string{
		{"title": "  ", "severity": "1"},
		{"title": strings.Repeat("x", 151), "severity": "1"},
		{"title": "Checkout", "severity": "SEV9"},
		{"title": "Checkout", "severity": "1", "service": "nonexistent"},
	} {
		if got := k.reply(fake.SubmitModal(dAlice, discordfake.GeneralID, form, values)); !strings.Contains(got, "fix the form") {
			t.Errorf("declaration form with %.60v: reply %q; want the form's errors", values, got)
		}
		if storeDigest(t, base) != before {
			t.Errorf("declaration form with %.60v changed the store", values)
		}
	}
	// The digest does see writes: a valid note changes it.
	if got := k.reply(fake.Command(dAlice, ch.ID, "incident", "note", str("text", "the sweep is over"))); !strings.Contains(got, "Noted") {
		t.Fatalf("note: %q", got)
	}
	if storeDigest(t, base) == before {
		t.Error("a note left the store digest as it was: the checks above prove nothing")
	}
	k.stop()
}

// waitOutboxIdle waits until klaxon's chat outbox has no pending job for
// platform (its /metrics gauge), so a digest sees a settled store.
func waitOutboxIdle(t *testing.T, r *running, fake interface {
	WaitFor(time.Duration, func() bool) bool
}, base, platform string) {
	t.Helper()
	r.waitFor(fake, "the chat outbox to empty", func() bool {
		_, page := get(t, base+"/metrics")
		return metric(page, `klaxon_jobs{destination="`+platform+`",state="pending"}`) == "0"
	})
}
