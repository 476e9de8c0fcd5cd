package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

const reloadToken = "reload-admin-token-0123456789"

// reloadConfig is the configuration before the reload; reloadedConfig
// changes every reloadable section of it.
const reloadConfig = `
people:
  - {id: alice, name: Alice}
  - {id: bob, name: Bob}
incidents:
  admins: [alice]
services:
  - {id: payments, escalation_policy: payments}
schedules:
  - {id: primary, service: payments, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [alice]}]}
escalation_policies:
  - id: payments
    steps:
      - {delay: 5m, targets: [{schedule: primary}]}
      - {delay: 5m, targets: [{person: bob}]}
pagers:
  - {id: hook, type: webhook, url: "%s", secret: reload-signing-s3cret}
alerts:
  sources:
    - {name: generic, token: reload-generic-token-0123}
api:
  admin_token: ` + reloadToken + `
`

const reloadedConfig = `
people:
  - {id: alice, name: Alice}
  - {id: bob, name: Bob}
  - {id: carol, name: Carol, time_zone: Europe/Berlin}
incidents:
  admins: [alice]
  types:
    - {id: security, name: Security, private: true}
services:
  - {id: payments, escalation_policy: payments}
  - {id: search, name: Search}
schedules:
  - {id: primary, service: payments, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [carol]}]}
escalation_policies:
  - id: payments
    steps:
      - {delay: 5m, targets: [{schedule: primary}]}
      - {delay: 5m, targets: [{person: carol}]}
      - {delay: 5m, targets: [{person: alice}]}
pagers:
  - {id: hook, type: webhook, url: "%s", secret: reload-signing-s3cret}
  - {id: hook2, type: webhook, url: "%s", secret: reload-signing-s3cret-2}
alerts:
  sources:
    - {name: generic, token: reload-generic-token-0123}
    - {name: grafana, username: grafana, password: reload-grafana-password-0123}
  routes:
    - {match: {team: search}, service: search, severity: SEV2}
trackers:
  - {id: gh, type: github, repo: acme/payments, api_url: "http://127.0.0.1:9", token: reload-github-token-0123}
templates:
  dir: "%s"
api:
  admin_token: ` + reloadToken + `
  tokens:
    - {name: ci, token: reload-ci-write-token-0123, scope: write}
`

// TestReloadChangesEverySectionWhilePaging: with an incident paging, the
// configuration changes in every reloadable section and is reloaded over
// HTTP; the page in flight keeps its policy and is delivered once per
// step, the new sections apply at once, a wrong configuration changes
// nothing and says why (API, /readyz, the admins' DMs), and SIGHUP
// reloads the fixed one.
func TestReloadChangesEverySectionWhilePaging(t *testing.T) {
	tr := newTriggers(t, func() int { return 0 })
	templates := t.TempDir()
	if err := os.WriteFile(filepath.Join(templates, "postmortem.md.tmpl"), []byte("# {{.Key}} reloaded template\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	clock := bot.NewFakeClock(time.Date(2026, 11, 17, 3, 0, 0, 0, time.UTC))
	addr := loopbackPort(t)
	base := "http://" + addr
	config := writeConfig(t, strings.Replace(reloadConfig, "%s", tr.srv.URL, 1))
	logs, in := runMain(t, config, env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db"), "KLAXON_HTTP_LISTEN": addr, "USER": "alice"},
		base+"/healthz", clock)
	say := func(line string) { in.Write([]byte(line + "\n")) }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\n%s", what, logs)
			}
		}
	}
	paged := func() []string {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		var out []string
		for _, ev := range tr.got {
			out = append(out, ev.Person)
		}
		return out
	}
	reload := func(token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/-/reload", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}

	say(`/incident declare "Checkout is down" sev:1 service:payments`)
	waitFor("alice's page", func() bool { return len(paged()) == 1 })
	if status := postGrafana(t, base); status != http.StatusNotFound {
		t.Fatalf("grafana before it is configured: %d", status)
	}

	// Every reloadable section changes.
	if err := os.WriteFile(config, []byte(strings.NewReplacer("%s", tr.srv.URL).Replace(strings.Replace(reloadedConfig, `dir: "%s"`, `dir: "`+templates+`"`, 1))), 0o600); err != nil {
		t.Fatal(err)
	}
	if status, body := reload("reload-ci-write-token-0123"); status != http.StatusUnauthorized {
		t.Fatalf("a token the running configuration does not have reloaded: %d %v", status, body)
	}
	status, body := reload(reloadToken)
	if status != http.StatusOK || body["reloaded"] != true || body["restart"] != nil {
		t.Fatalf("reload: %d %v\n%s", status, body, logs)
	}

	// The page in flight keeps its policy: step 2 pages bob, not carol,
	// and there is no third step; its deliveries go to the pagers
	// configured now (hook and the new hook2), once each.
	clock.Advance(5*time.Minute + time.Second)
	waitFor("the second step", func() bool { return len(paged()) == 3 })
	clock.Advance(10 * time.Minute)
	say(`/incident status INC-1`) // a round trip through the console after the tick
	waitFor("the status", func() bool { return strings.Contains(logs.String(), "This was the last step") })
	time.Sleep(100 * time.Millisecond) // a third step, if there were one, would be out by now
	if got := paged(); strings.Join(got, ",") != "alice,bob,bob" {
		t.Fatalf("the page in flight paged %v; want alice, then bob on both pagers (its own policy)", got)
	}

	// The new configuration applies: people, schedules, services, types,
	// alert sources and routes, tokens, templates, and new pages use the
	// new policy.
	say(`/oncall payments`)
	waitFor("carol on call", func() bool { return strings.Contains(logs.String(), "primary: @carol") })
	say(`/incident declare "Token leak" type:security sev:2 service:search`)
	waitFor("the security incident", func() bool { return strings.Contains(logs.String(), "INC-2") })
	if status := postGrafana(t, base); status/100 != 2 {
		t.Fatalf("the new alert source: %d", status)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/incidents", nil)
	req.Header.Set("Authorization", "Bearer reload-ci-write-token-0123")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the new API token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	say(`/incident resolve INC-1`)
	draft := regexp.MustCompile(`INC-1-postmortem\.md \(\d+ bytes\) → (\S+)`)
	waitFor("the postmortem draft", func() bool { return draft.MatchString(logs.String()) })
	if md, err := os.ReadFile(draft.FindStringSubmatch(logs.String())[1]); err != nil || string(md) != "# INC-1 reloaded template\n" {
		t.Errorf("the draft is not from the new template: %q %v", md, err)
	}

	// A wrong configuration changes nothing and says why.
	if err := os.WriteFile(config, []byte("people:\n  - {id: Bad Id, name: X}\napi:\n  admin_token: "+reloadToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	status, body = reload(reloadToken)
	if status != http.StatusBadRequest || body["field"] != "people[0]" || !strings.Contains(body["detail"].(string), "nothing changed") {
		t.Fatalf("a wrong configuration: %d %v", status, body)
	}
	_, ready := get(t, base+"/readyz")
	if !strings.Contains(ready, "warning: the configuration reload at") || !strings.Contains(ready, "people[0]") {
		t.Errorf("/readyz does not say the reload failed:\n%s", ready)
	}
	waitFor("alice's DM", func() bool { return strings.Contains(logs.String(), "⚠️ the configuration reload at") })
	say(`/oncall payments`)
	waitFor("carol still on call", func() bool { return strings.Count(logs.String(), "primary: @carol") >= 2 })

	// SIGHUP reloads the fixed configuration; the warning goes.
	fixed := strings.Replace(strings.NewReplacer("%s", tr.srv.URL).Replace(strings.Replace(reloadedConfig, `dir: "%s"`, `dir: "`+templates+`"`, 1)),
		"  - {id: carol, name: Carol, time_zone: Europe/Berlin}", "  - {id: carol, name: Carol, time_zone: Europe/Berlin}\n  - {id: dave, name: Dave}", 1)
	fixed = strings.Replace(fixed, "participants: [carol]", "participants: [dave]", 1)
	if err := os.WriteFile(config, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("the reload on SIGHUP", func() bool { return strings.Contains(logs.String(), "reloaded on SIGHUP") })
	if _, ready := get(t, base+"/readyz"); strings.Contains(ready, "warning: the configuration reload") {
		t.Errorf("the warning stayed after a good reload:\n%s", ready)
	}
	say(`/oncall payments`)
	waitFor("dave on call", func() bool { return strings.Contains(logs.String(), "primary: @dave") })

	// klaxon reload asks the running klaxon to reload, with the
	// configuration's own admin token, and says what needs a restart.
	if err := os.WriteFile(config, []byte(fixed+"http:\n  max_conns_per_client: 50\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cli := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Getenv: env{"KLAXON_HTTP_LISTEN": addr}.get}
	if err := cli.Execute(t.Context(), []string{"reload", "--config", config}); err != nil || out.String() != "reloaded\nchanged, applies at the next restart: http.max_conns_per_client\n" {
		t.Errorf("klaxon reload: %v\n%s", err, out.String())
	}
}

// postGrafana posts Grafana's webhook fixture with the reloaded
// configuration's credentials and returns the status.
func postGrafana(t *testing.T, base string) int {
	t.Helper()
	body, err := os.ReadFile("../../bot/web/testdata/grafana.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/alerts/grafana", bytes.NewReader(body))
	req.SetBasicAuth("grafana", "reload-grafana-password-0123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
