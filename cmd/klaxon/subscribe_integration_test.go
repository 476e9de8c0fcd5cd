//go:build integration

package main

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klaxon-bot/klaxon/bot/notify/notifytest"
)

// TestStatusSubscriptionsThroughMailpit: in headless Chromium, ann
// subscribes to Payments from the status page and confirms through the
// link a real SMTP server (Mailpit) received; bo subscribes to every
// service. A public incident's start, public update and resolution reach
// them with List-Unsubscribe headers; ann leaves with a one-click POST
// (RFC 8058) and gets nothing more. Every page passes axe-core.
func TestStatusSubscriptionsThroughMailpit(t *testing.T) {
	bin := chromiumBin(t)
	axe := axeScript(t)
	mp := notifytest.StartMailpit(t)
	addr := loopbackPort(t)
	public := "http://" + addr
	config := writeConfig(t, `
http:
  public_url: "`+public+`"
people:
  - {id: alice, name: Alice}
status:
  title: Acme Status
  subscriptions: true
services:
  - {id: payments, name: Payments}
  - {id: search, name: Search}
notifications:
  link_secret: "a-link-signing-secret-of-32-characters"
  smtp: {host: 127.0.0.1, port: `+strconv.Itoa(mp.Port())+`, security: none, from: status@example.com}
`)
	logs, in := runMain(t, config, env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db"), "KLAXON_HTTP_LISTEN": addr, "USER": "alice"},
		public+"/healthz", nil)
	say := func(line string) { in.Write([]byte(line + "\n")) }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\n%s", what, logs)
			}
		}
	}
	// mailTo finds the newest mail to addr whose subject has subject.
	mailTo := func(addr, subject string) (notifytest.MailpitMessage, bool) {
		for _, m := range mp.Messages() {
			if len(m.To) == 1 && m.To[0].Address == addr && strings.Contains(m.Subject, subject) {
				return m, true
			}
		}
		return notifytest.MailpitMessage{}, false
	}
	confirmLink := regexp.MustCompile(`http://[^\s]+/status/confirm\?t=\S+`)

	actx, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.Headless, chromedp.WindowSize(1000, 900))...)
	defer cancel()
	browser, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	heading := func() string {
		t.Helper()
		h, err := chromedp.Run(ctx, chromedp.Text(css(`main h2`)))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	// settled is the heading once a form's POST has loaded its answer: the
	// old page may still be there, or going, when the click returns.
	settled := func(want string) {
		t.Helper()
		var h string
		waitFor(want, func() bool {
			tctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			h, _ = chromedp.Run(tctx, chromedp.Text(css(`main h2`)))
			return h == want
		})
	}

	// ann subscribes to Payments in the browser.
	err := chromedp.Do(ctx,
		chromedp.Navigate(public+"/status"),
		chromedp.WaitVisible(css(`#email`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "status-subscribe-form.png")
	checkA11y(t, ctx, axe, "status page with the subscribe form")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(css(`#email`), "ann@example.com"),
		chromedp.Click(css(`#svc-all`)),
		chromedp.Click(css(`#svc-payments`)),
		chromedp.Click(css(`form.subscribe button`)),
		chromedp.WaitVisible(css(`main h2`)),
	)
	if err != nil || heading() != "Check your inbox" {
		t.Fatalf("subscribing: %v", err)
	}
	shoot(t, ctx, "status-subscribe-check-inbox.png")
	checkA11y(t, ctx, axe, "check your inbox")

	waitFor("ann's confirmation mail", func() bool { _, ok := mailTo("ann@example.com", "Confirm your subscription to Acme Status"); return ok })
	m, _ := mailTo("ann@example.com", "Confirm")
	link := confirmLink.FindString(mp.Message(m.ID).Text)
	if link == "" {
		t.Fatalf("no confirmation link in:\n%s", mp.Message(m.ID).Text)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(css(`main button`))); err != nil {
		t.Fatal(err)
	}
	if h := heading(); h != "Confirm your subscription" {
		t.Fatalf("the link shows %q", h)
	}
	shoot(t, ctx, "status-subscribe-confirm.png")
	checkA11y(t, ctx, axe, "confirm")
	if err := chromedp.Do(ctx, chromedp.Click(css(`main button`))); err != nil {
		t.Fatal(err)
	}
	settled("You are subscribed")
	body, _ := chromedp.Run(ctx, chromedp.Text(css(`main p`)))
	if !strings.Contains(body, "ann@example.com gets incident updates of Payments") {
		t.Errorf("confirmed page says %q", body)
	}
	shoot(t, ctx, "status-subscribe-confirmed.png")
	checkA11y(t, ctx, axe, "subscribed")

	// bo subscribes to everything, without a browser.
	resp, err := http.PostForm(public+"/status/subscribe", url.Values{"email": {"bo@example.com"}, "service": {"all"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("bo's request: %v %v", resp, err)
	}
	resp.Body.Close()
	waitFor("bo's confirmation mail", func() bool { _, ok := mailTo("bo@example.com", "Confirm"); return ok })
	m, _ = mailTo("bo@example.com", "Confirm")
	tok, _ := url.Parse(confirmLink.FindString(mp.Message(m.ID).Text))
	resp, err = http.PostForm(public+"/status/confirm", url.Values{"t": {tok.Query().Get("t")}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("bo's confirmation: %v %v", resp, err)
	}
	resp.Body.Close()

	// A public incident: its start and public update reach both.
	say(`/incident declare "Checkout is down" sev:1 service:payments`)
	waitFor("the start mails", func() bool {
		_, a := mailTo("ann@example.com", "Investigating: INC-1 Checkout is down")
		_, b := mailTo("bo@example.com", "Investigating: INC-1 Checkout is down")
		return a && b
	})
	say(`/incident update INC-1 --public Card payments fail; we are rolling back`)
	waitFor("the update mails", func() bool {
		_, a := mailTo("ann@example.com", "Update: INC-1")
		_, b := mailTo("bo@example.com", "Update: INC-1")
		return a && b
	})
	m, _ = mailTo("ann@example.com", "Update: INC-1")
	msg := mp.Message(m.ID)
	if !strings.Contains(msg.Text, "Card payments fail; we are rolling back") {
		t.Errorf("the update mail reads:\n%s", msg.Text)
	}
	unsub := strings.Trim(strings.Join(msg.Headers["List-Unsubscribe"], ""), "<>")
	if !strings.HasPrefix(unsub, public+"/status/unsubscribe?t=") || strings.Join(msg.Headers["List-Unsubscribe-Post"], "") != "List-Unsubscribe=One-Click" {
		t.Fatalf("headers: %v", msg.Headers)
	}

	// The unsubscribe page in the browser asks first; the mail client's
	// one-click POST unsubscribes.
	if err := chromedp.Do(ctx, chromedp.Navigate(unsub), chromedp.WaitVisible(css(`main button`))); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "status-unsubscribe.png")
	checkA11y(t, ctx, axe, "unsubscribe")
	resp, err = http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click unsubscribe: %v %v", resp, err)
	}
	resp.Body.Close()

	say(`/incident resolve INC-1`)
	waitFor("bo's resolution mail", func() bool { _, ok := mailTo("bo@example.com", "Resolved: INC-1"); return ok })
	// The resolution's fan-out wrote bo's mail and ann's in one
	// transaction, if it wrote ann's: once the outbox holds no mail, she
	// got none.
	waitFor("an empty mail queue", func() bool {
		_, page := get(t, public+"/metrics")
		return metric(page, `klaxon_jobs{destination="smtp",state="pending"}`) == "0"
	})
	if _, ok := mailTo("ann@example.com", "Resolved"); ok {
		t.Error("ann got the resolution after unsubscribing")
	}

	// A client that keeps asking is refused, with Retry-After.
	var last *http.Response
	for range 12 {
		last, err = http.PostForm(public+"/status/subscribe", url.Values{"email": {"someone@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		last.Body.Close()
		if last.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Errorf("after many requests: %d %v", last.StatusCode, last.Header)
	}
}
