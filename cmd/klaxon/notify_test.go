package main

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/notify/notifytest"
)

// loopbackPort is a port free on 127.0.0.1 now.
func loopbackPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// notifyRig runs klaxon in console mode with Twilio and ntfy fakes as
// its providers and its own listener as the public URL.
type notifyRig struct {
	t      *testing.T
	twilio *notifytest.Twilio
	ntfy   *notifytest.Ntfy
	clock  *bot.FakeClock
	public string
	logs   *syncBuffer
	in     *io.PipeWriter
}

func startNotifyRig(t *testing.T, extra string) *notifyRig {
	r := &notifyRig{t: t, twilio: notifytest.NewTwilio(), ntfy: notifytest.NewNtfy(),
		clock: bot.NewFakeClock(time.Date(2026, 11, 17, 3, 0, 0, 0, time.UTC))}
	t.Cleanup(r.twilio.Close)
	t.Cleanup(r.ntfy.Close)
	addr := loopbackPort(t)
	r.public = "http://" + addr
	config := writeConfig(t, `
http:
  public_url: "`+r.public+`"
people:
  - id: alice
    name: Alice
    contact: {push: alice-pager, sms: "+14155550101", voice: "+14155550101"}
    notify: ["push 0m", "sms 1m", "voice 5m"]
  - id: bob
    name: Bob
    contact: {sms: "+14155550102"}
  - {id: carol, name: Carol}
services:
  - {id: payments, escalation_policy: payments}
schedules:
  - {id: primary, service: payments, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [alice]}]}
  - {id: secondary, service: payments, role: secondary, time_zone: UTC, layers: [{rotation: weekly, start: 2026-11-16, participants: [bob]}]}
escalation_policies:
  - id: payments
    steps:
      - {delay: 10m, targets: [{schedule: primary}]}
      - {delay: 10m, targets: [{schedule: secondary}]}
notifications:
  default_rules: ["sms 0m"]
  link_secret: "a-link-signing-secret-of-32-characters"
  twilio:
    account_sid: `+r.twilio.AccountSID+`
    auth_token: "`+r.twilio.AuthToken+`"
    from: "`+r.twilio.Numbers[0]+`"
    api_url: "`+r.twilio.Server.URL+`"
  ntfy:
    server: "`+r.ntfy.Server.URL+`"
`+extra)
	r.logs, r.in = runMain(t, config, env{"KLAXON_STORE_PATH": filepath.Join(t.TempDir(), "k.db"), "KLAXON_HTTP_LISTEN": addr, "USER": "carol"},
		r.public+"/healthz", r.clock)
	return r
}

func (r *notifyRig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out waiting for %s\n%s", what, r.logs)
		}
	}
}

func (r *notifyRig) say(line string) { io.WriteString(r.in, line+"\n") }

// TestKlaxonWakesAPersonByTheirRules: a page starts alice's rules (push
// at once, SMS after a minute, a call after five); Twilio's delivery
// report shows in the summary; her reply "1" acknowledges as her and
// stops the call that was still due.
func TestKlaxonWakesAPersonByTheirRules(t *testing.T) {
	r := startNotifyRig(t, "")
	r.say(`/incident declare "Checkout is down" sev:1 service:payments`)
	r.waitFor("the push", func() bool { return len(r.ntfy.Pushes("alice-pager")) == 1 })
	push := r.ntfy.Pushes("alice-pager")[0]
	if push.Priority != 5 || push.Message != "INC-1 SEV1: Checkout is down" || len(push.Actions) != 1 || !strings.HasPrefix(push.Actions[0].URL, r.public+"/ack/") {
		t.Fatalf("push %+v", push)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(r.twilio.Sent("+14155550101", false)); n != 0 {
		t.Fatalf("the SMS went out before its minute: %d", n)
	}
	r.clock.Advance(time.Minute)
	r.waitFor("the SMS after a minute", func() bool { return len(r.twilio.Sent("+14155550101", false)) == 1 })
	sms := r.twilio.Sent("+14155550101", false)[0]
	if !strings.Contains(sms.Body, "INC-1 SEV1: Checkout is down") || !strings.Contains(sms.Body, "Reply 1") {
		t.Fatalf("SMS %q", sms.Body)
	}
	if status, err := r.twilio.Progress(sms.SID, "delivered"); err != nil || status != http.StatusNoContent {
		t.Fatalf("status callback: %d %v", status, err)
	}
	r.waitFor("the summary to show the SMS delivered", func() bool { return strings.Contains(r.logs.String(), "SMS ✓ delivered 03:01") })

	// A reply Twilio did not sign changes nothing.
	forged, _ := http.PostForm(r.public+"/twilio/sms", url.Values{"From": {"+14155550101"}, "Body": {"1"}})
	if forged.StatusCode != http.StatusForbidden {
		t.Fatalf("an unsigned reply got %d", forged.StatusCode)
	}
	status, reply, err := r.twilio.Post(r.public+"/twilio/sms", url.Values{"From": {"+14155550101"}, "To": {r.twilio.Numbers[0]}, "Body": {" 1 "}})
	if err != nil || status != http.StatusOK || !strings.Contains(reply, "<Message>Acknowledged INC-1.") {
		t.Fatalf("reply: %d %q %v", status, reply, err)
	}
	r.waitFor("the channel to show alice's acknowledgement", func() bool {
		return strings.Contains(r.logs.String(), "acknowledged by @alice")
	})
	// Her call was due at 03:05: acknowledged, it never comes, and no
	// later step pages bob.
	r.clock.Advance(15 * time.Minute)
	time.Sleep(100 * time.Millisecond)
	if calls := r.twilio.Sent("", true); len(calls) != 0 {
		t.Fatalf("calls after the acknowledgement: %+v", calls)
	}
	if texts := r.twilio.Sent("+14155550102", false); len(texts) != 0 {
		t.Fatalf("bob was texted after the acknowledgement: %+v", texts)
	}
	// A second "1" is told there is nothing to acknowledge.
	_, reply, _ = r.twilio.Post(r.public+"/twilio/sms", url.Values{"From": {"+14155550101"}, "Body": {"ack 1"}})
	if !strings.Contains(reply, "already acknowledged by Alice") {
		t.Fatalf("a second reply: %q", reply)
	}
	if len(r.twilio.Violations) > 0 {
		t.Fatalf("Twilio fake: %v", r.twilio.Violations)
	}
}

// TestPrivateIncidentsStayOffTheLockScreen: a private incident's push and
// text name only its number and severity; the push's button acknowledges.
func TestPrivateIncidentsStayOffTheLockScreen(t *testing.T) {
	r := startNotifyRig(t, "")
	r.say(`/incident declare "Payroll leak at ACME" sev:1 service:payments private`)
	r.waitFor("the push", func() bool { return len(r.ntfy.Pushes("alice-pager")) == 1 })
	push := r.ntfy.Pushes("alice-pager")[0]
	r.clock.Advance(time.Minute)
	r.waitFor("the SMS", func() bool { return len(r.twilio.Sent("+14155550101", false)) == 1 })
	sms := r.twilio.Sent("+14155550101", false)[0]
	for _, text := range []string{push.Message, push.Title, sms.Body} {
		if strings.Contains(text, "Payroll") || strings.Contains(text, "ACME") {
			t.Fatalf("a private title on the lock screen: %q", text)
		}
	}
	if push.Message != "private incident INC-1 (SEV1)" {
		t.Fatalf("push %q", push.Message)
	}
	// The push's Acknowledge action, as the ntfy app sends it.
	resp, err := http.Post(push.Actions[0].URL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Acknowledged INC-1") {
		t.Fatalf("ack action: %d %s", resp.StatusCode, body)
	}
	// A link that was tampered with is refused.
	resp, _ = http.Post(push.Actions[0].URL+"x", "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a tampered link got %d", resp.StatusCode)
	}
	r.clock.Advance(10 * time.Minute)
	time.Sleep(100 * time.Millisecond)
	if calls := r.twilio.Sent("", true); len(calls) != 0 {
		t.Fatalf("a call after the acknowledgement: %+v", calls)
	}
}

// TestARefusedNumberIsSaidOnceAndTheRulesGoOn: Twilio refuses alice's
// texts for good (she replied STOP); the channel is told once, naming her
// and the method and what comes next, and the call still goes out.
func TestARefusedNumberIsSaidOnceAndTheRulesGoOn(t *testing.T) {
	r := startNotifyRig(t, "")
	r.twilio.Stopped["+14155550101"] = true
	r.say(`/incident declare "Checkout is down" sev:1 service:payments`)
	r.waitFor("the push", func() bool { return len(r.ntfy.Pushes("alice-pager")) == 1 })
	r.clock.Advance(time.Minute)
	r.waitFor("the refusal in the channel", func() bool {
		return strings.Contains(r.logs.String(), "Could not reach @alice by SMS: Twilio refused the text (error 21610)")
	})
	if !strings.Contains(r.logs.String(), "Next for them: call at 03:05") {
		t.Fatalf("the notice does not say what comes next:\n%s", r.logs)
	}
	r.clock.Advance(4 * time.Minute)
	r.waitFor("the call", func() bool { return len(r.twilio.Sent("+14155550101", true)) == 1 })
	call := r.twilio.Sent("+14155550101", true)[0]
	if !strings.Contains(call.Twiml, "Press 1 to acknowledge") {
		t.Fatalf("TwiML %s", call.Twiml)
	}
	if n := strings.Count(r.logs.String(), "⚠️ Could not reach @alice by SMS"); n != 1 {
		t.Fatalf("the refusal was reported %d times", n)
	}
	// Alice answers and presses 1: Twilio posts the key to the call's
	// action, signed.
	action := regexp.MustCompile(`action="([^"]+)"`).FindStringSubmatch(call.Twiml)[1]
	action = strings.ReplaceAll(action, "&amp;", "&")
	if status, body, _ := r.twilio.Post(action, url.Values{"CallSid": {call.SID}, "Digits": {"2"}}); status != http.StatusOK || !strings.Contains(body, "No acknowledgement") {
		t.Fatalf("another key: %d %s", status, body)
	}
	status, body, err := r.twilio.Post(action, url.Values{"CallSid": {call.SID}, "Digits": {"1"}})
	if err != nil || status != http.StatusOK || !strings.Contains(body, "<Say>Acknowledged incident 1.") {
		t.Fatalf("key press: %d %s %v", status, body, err)
	}
	r.waitFor("the acknowledgement in the channel", func() bool { return strings.Contains(r.logs.String(), "acknowledged by @alice") })
}

// TestContactMethodsFromChat: carol adds a number in chat, gets a code by
// SMS, is refused a wrong code, verifies, cannot reuse the code, tests it,
// and is paged on it; a push topic whose code expired is never used.
func TestContactMethodsFromChat(t *testing.T) {
	r := startNotifyRig(t, "")
	out := func() string { return r.logs.String() }
	r.say("/oncall notify")
	r.waitFor("the empty profile", func() bool { return strings.Contains(out(), "Contact methods: none") })
	r.say("/oncall notify add sms 0171-5550100")
	r.waitFor("the format error", func() bool { return strings.Contains(out(), `"0171-5550100" is not an E.164 phone number`) })
	r.say("/oncall notify add pigeon 42")
	r.waitFor("the method error", func() bool { return strings.Contains(out(), `"pigeon" is not a contact method`) })
	r.say("/oncall notify add sms +14155550103")
	r.waitFor("the code by SMS", func() bool { return len(r.twilio.Sent("+14155550103", false)) == 1 })
	code := regexp.MustCompile(`code is (\d{6})`).FindStringSubmatch(r.twilio.Sent("+14155550103", false)[0].Body)[1]
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r.say("/oncall notify verify " + wrong)
	r.waitFor("the wrong code refused", func() bool { return strings.Contains(out(), "That code is wrong. 4 tries left.") })
	r.say("/incident declare \"Checkout is down\" sev:1 service:payments")
	r.say("/incident page @carol")
	time.Sleep(100 * time.Millisecond)
	if n := len(r.twilio.Sent("+14155550103", false)); n != 1 {
		t.Fatalf("an unverified number was paged (%d texts)", n)
	}
	r.say("/oncall notify verify " + code)
	r.waitFor("verified", func() bool {
		return strings.Contains(out(), "✅ Verified: klaxon now reaches you by SMS at +1415•••0103")
	})
	r.say("/oncall notify verify " + code)
	r.waitFor("the reused code refused", func() bool { return strings.Contains(out(), "No code is waiting for you") })
	r.say("/oncall notify test")
	r.waitFor("the test SMS", func() bool {
		texts := r.twilio.Sent("+14155550103", false)
		return len(texts) == 2 && strings.Contains(texts[1].Body, "Test from klaxon")
	})

	// A push topic whose code expired stays unverified and unused.
	r.say("/oncall notify add push carol-pager")
	r.waitFor("the code by push", func() bool { return len(r.ntfy.Pushes("carol-pager")) == 1 })
	pushCode := regexp.MustCompile(`code is (\d{6})`).FindStringSubmatch(r.ntfy.Pushes("carol-pager")[0].Message)[1]
	r.clock.Advance(16 * time.Minute)
	r.say("/oncall notify verify " + pushCode)
	r.waitFor("the expired code refused", func() bool { return strings.Contains(out(), "That code has expired") })
	r.say("/oncall notify rules push 0m, sms 0m")
	r.waitFor("the rules saved", func() bool {
		return strings.Contains(out(), "• push at once ⚠️ no verified push method: skipped")
	})
	r.say("/incident page INC-1 @carol")
	r.waitFor("carol paged by SMS", func() bool {
		texts := r.twilio.Sent("+14155550103", false)
		return len(texts) == 3 && strings.Contains(texts[2].Body, "you are paged. INC-1 SEV1: Checkout is down")
	})
	time.Sleep(100 * time.Millisecond)
	if n := len(r.ntfy.Pushes("carol-pager")); n != 1 {
		t.Fatalf("the unverified push topic got %d pushes", n)
	}
}
