//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeScript is axe-core, fetched from npm by `make integration`
// (bin/package/axe.min.js) or named by AXE_JS.
func axeScript(t *testing.T) string {
	path := os.Getenv("AXE_JS")
	if path == "" {
		path = "../../bin/package/axe.min.js"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("axe-core is not there (%v): run make integration, which fetches it from npm", err)
	}
	return string(data)
}

// checkA11y runs axe-core in the page and fails on a serious or critical
// violation.
func checkA11y(t *testing.T, ctx context.Context, axe, page string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+"\n;true")); err != nil {
		t.Fatalf("loading axe on %s: %v", page, err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	var vs []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatalf("axe on %s: %v", page, err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: accessibility (%s) %s: %s at %v", page, v.Impact, v.ID, v.Help, v.Nodes)
		}
	}
}

func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	os.MkdirAll("../../artifacts", 0o755)
	if err := os.WriteFile(filepath.Join("../../artifacts", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWebConsoleInHeadlessChromium: alice signs in through a real OpenID
// provider in headless Chromium, declares from the browser (the channel
// and its pinned summary appear on the fake Slack), acknowledges (the
// channel says so as her), and every page passes axe-core with no
// serious or critical violation. Screenshots go to artifacts/.
func TestWebConsoleInHeadlessChromium(t *testing.T) {
	bin := chromiumBin(t)
	axe := axeScript(t)
	fake := newFake(t)
	addr := loopbackPort(t)
	issuer := startZitadel(t, "http://"+addr+"/auth/callback")
	r := startWebRigWith(t, addr, `
people:
  - {id: alice, name: Alice, slack_id: `+alice+`, email: test-user2@zitadel.ch}
  - {id: bob, name: Bob, slack_id: `+bob+`}
services:
  - {id: payments, escalation_policy: payments}
schedules:
  - {id: primary, service: payments, time_zone: Europe/Berlin, layers: [{name: Weekdays, rotation: daily, start: 2026-01-05, participants: [alice, bob]}]}
escalation_policies:
  - id: payments
    steps:
      - {delay: 5m, targets: [{schedule: primary}]}
`, issuer, "klaxon-web", "klaxon-client-secret", env{"KLAXON_SLACK_APP_TOKEN": fake.AppToken, "KLAXON_SLACK_BOT_TOKEN": fake.BotToken,
		"KLAXON_SLACK_API_URL": fake.URL(), "KLAXON_SLACK_ANNOUNCE_CHANNEL": "C0INCIDENTS"})
	r.waitFor("the Slack connection", fake.Connected)

	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.WindowSize(1280, 900))...)
	defer cancel()
	browser, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil { // starts the browser, with no timeout
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Sign in: the console sends the browser to the provider's form.
	err := chromedp.Do(ctx,
		chromedp.Navigate(r.public+"/app/incidents"),
		chromedp.WaitVisible(css(`#username`)),
		chromedp.SendKeys(css(`#username`), "test-user2"),
		chromedp.SendKeys(css(`#password`), "verysecure"),
		chromedp.Click(css(`button[type=submit]`)),
		chromedp.WaitVisible(css(`main h1`)),
	)
	heading, _ := chromedp.Run(ctx, chromedp.Text(css(`main h1`)))
	if err != nil || heading != "Incidents" {
		t.Fatalf("sign-in: %q %v\n%s", heading, err, r.logs)
	}
	shoot(t, ctx, "web-incidents-empty.png")
	checkA11y(t, ctx, axe, "incidents")

	// Declare from the browser.
	err = chromedp.Do(ctx,
		chromedp.Navigate(r.public+"/app/declare"),
		chromedp.WaitVisible(css(`#title`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "web-declare.png")
	checkA11y(t, ctx, axe, "declare")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(css(`#title`), "Checkout is down"),
		chromedp.SetValue(css(`#severity`), "SEV1"),
		chromedp.SetValue(css(`#service`), "payments"),
		chromedp.Click(css(`form[action$="/declare"] button`)),
		chromedp.WaitVisible(css(`dl.facts`)),
	)
	heading, _ = chromedp.Run(ctx, chromedp.Text(css(`main h1`)))
	if err != nil || !strings.Contains(heading, "INC-1") {
		t.Fatalf("declare: %q %v\n%s", heading, err, r.logs)
	}
	r.waitFor("the incident channel with its pinned summary", func() bool {
		ch, ok := fake.ChannelByName("inc-1-checkout-is-down")
		return ok && len(ch.Pins) == 1 && ch.Creator != ""
	})
	shoot(t, ctx, "web-incident.png")
	checkA11y(t, ctx, axe, "incident")

	// Acknowledge: the channel hears it from alice.
	err = chromedp.Do(ctx,
		chromedp.Click(css(`form[action$="/ack"] button`)),
		chromedp.WaitVisible(css(`p.flash`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := fake.ChannelByName("inc-1-checkout-is-down")
	r.waitFor("alice's acknowledgement in the channel", func() bool {
		for _, m := range fake.Messages(ch.ID) {
			if strings.Contains(m.Text, "<@"+alice+">") && strings.Contains(m.Text, "acknowledged INC-1") {
				return true
			}
		}
		return false
	})
	shoot(t, ctx, "web-acknowledged.png")
	checkA11y(t, ctx, axe, "incident after ack")
	if err := chromedp.Do(ctx, chromedp.Navigate(r.public+"/app/incidents")); err != nil {
		t.Fatal(err)
	}
	list, err := chromedp.Run(ctx, chromedp.Text(css(`table.incidents`)))
	if err != nil || !strings.Contains(list, "acknowledged") {
		t.Fatalf("the list after ack: %q %v", list, err)
	}
	shoot(t, ctx, "web-incidents.png")

	// Live: bob declares in Slack; the open list shows it without a reload.
	fake.SlashCommand(bob, "C0GENERAL", "/incident", `declare "Search is slow" sev:3 service:payments`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		list, err := chromedp.Run(ctx, chromedp.Text(css(`table.incidents`)))
		if err == nil && strings.Contains(list, "Search is slow") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the open list did not update: %q %v", list, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	shoot(t, ctx, "web-incidents-live.png")

	// The postmortem editor: save a version and see its preview.
	err = chromedp.Do(ctx,
		chromedp.Navigate(r.public+"/app/incidents/1/postmortem"),
		chromedp.WaitVisible(css(`#markdown`)),
		chromedp.SetValue(css(`#markdown`), "# INC-1\n\nCheckout fell over; **payments** retried."),
		chromedp.Click(css(`button[value=save]`)),
		chromedp.WaitVisible(css(`p.flash`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	preview, err := chromedp.Run(ctx, chromedp.Text(css(`.rendered`)))
	if err != nil || !strings.Contains(preview, "Checkout fell over; payments retried.") {
		t.Fatalf("the saved version's preview: %q %v", preview, err)
	}
	// The live preview follows typing.
	if err := chromedp.Do(ctx, chromedp.SendKeys(css(`#markdown`), "\n\n## Impact\n\nEvery *checkout* failed.")); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".rendered").innerHTML`))
		if err == nil && strings.Contains(html, "<h2>Impact</h2>") && strings.Contains(html, "<em>checkout</em>") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the live preview did not follow: %q %v", html, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	shoot(t, ctx, "web-postmortem.png")
	checkA11y(t, ctx, axe, "postmortem")
	// Share: the saved version goes to the channel as a file.
	if err := chromedp.Do(ctx, chromedp.Click(css(`button[value=share]`)), chromedp.WaitVisible(css(`p.flash`))); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the shared postmortem in the channel", func() bool {
		for _, f := range fake.Files(ch.ID) {
			if strings.Contains(string(f.Content), "Checkout fell over; **payments** retried.") {
				return true
			}
		}
		return false
	})

	// bob's private incident leaves no trace for alice: not in the list,
	// and its page looks like no incident at all.
	fake.SlashCommand(bob, "C0GENERAL", "/incident", `declare "Payroll leak" sev:2 private`)
	r.waitFor("the private incident", func() bool { _, ok := fake.ChannelByName("inc-3-payroll-leak"); return ok })
	if err := chromedp.Do(ctx, chromedp.Navigate(r.public+"/app/incidents")); err != nil {
		t.Fatal(err)
	}
	page, _ := chromedp.Run(ctx, chromedp.Text(css(`main`)))
	if strings.Contains(page, "Payroll") || strings.Contains(page, "INC-3") {
		t.Fatalf("alice sees bob's private incident: %s", page)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(r.public+"/app/incidents/3")); err != nil {
		t.Fatal(err)
	}
	page, _ = chromedp.Run(ctx, chromedp.Text(css(`main`)))
	if strings.Contains(page, "Payroll") || !strings.Contains(page, "no such incident") {
		t.Fatalf("the private incident's page: %s", page)
	}
	// A state-changing request without the CSRF token, from the page
	// itself, is refused and changes nothing.
	code, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch("/app/incidents/1/resolve", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "text=gone"}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || code != 403 {
		t.Fatalf("a POST without its CSRF token: %d %v", code, err)
	}
	for _, m := range fake.Messages(ch.ID) {
		if strings.Contains(m.Text, "resolved") {
			t.Fatalf("the refused request resolved the incident: %s", m.Text)
		}
	}
	// The on-call pages.
	for _, pg := range []struct{ path, shot string }{
		{"/app/oncall", "web-oncall.png"}, {"/app/oncall/primary", "web-oncall-week.png"},
		{"/app/oncall/primary?view=month", "web-oncall-month.png"}, {"/app/policies", "web-policies.png"}, {"/app/insights", "web-insights.png"}, {"/status", "web-status-history.png"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(r.public+pg.path), chromedp.WaitVisible(css(`h1`))); err != nil {
			t.Fatal(err)
		}
		shoot(t, ctx, pg.shot)
		checkA11y(t, ctx, axe, pg.path)
	}
	fmt.Fprintln(os.Stderr, "web console screenshots in artifacts/web-*.png")
}
