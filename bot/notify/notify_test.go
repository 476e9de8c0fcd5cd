package notify_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/notify"
	"github.com/klaxon-bot/klaxon/bot/notify/notifytest"
)

// Twilio's documented worked example of X-Twilio-Signature: auth token
// 12345, this URL and these parameters.
func TestTwilioSignatureWorkedExample(t *testing.T) {
	u := "https://mycompany.com/myapp.php?foo=1&bar=2"
	params := url.Values{"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"}}
	if got := notify.TwilioSignature("12345", u, params); got != "RSOYDt4T1cUTdK1PDd93/VVr8B8=" {
		t.Fatalf("signature %q, want Twilio's RSOYDt4T1cUTdK1PDd93/VVr8B8=", got)
	}
	if !notify.VerifyTwilio("12345", u, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=") {
		t.Fatal("the worked example does not verify")
	}
	params.Set("Digits", "1")
	if notify.VerifyTwilio("12345", u, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=") {
		t.Fatal("a changed parameter still verifies")
	}
}

func twilio(fake *notifytest.Twilio, public string) *notify.Twilio {
	return &notify.Twilio{URL: fake.Server.URL, AccountSID: fake.AccountSID, Username: fake.AccountSID, Password: fake.AuthToken,
		From: fake.Numbers[0], PublicURL: public, Links: &notify.Links{Key: []byte("link-key")}, Client: http.DefaultClient}
}

func delivery(key, to string) bot.Delivery {
	return bot.Delivery{Key: key, DedupKey: key, PageID: uuid.New(), Person: "alice", Kind: bot.DeliverTrigger, To: to,
		Summary: "INC-7 SEV1: checkout is down", Created: time.Now()}
}

func TestSMSIsSentAndFoundAgain(t *testing.T) {
	fake := notifytest.NewTwilio()
	defer fake.Close()
	sms := notify.SMS{Twilio: twilio(fake, "https://klaxon.example.com")}
	d := delivery("p:0:0:alice:sms", "+14155550100")
	res := sms.Send(context.Background(), d)
	if !res.Sent || !strings.HasPrefix(res.Ref, "SM") || res.Progress != "queued" {
		t.Fatalf("send: %+v", res)
	}
	sent := fake.Sent("+14155550100", false)
	if len(sent) != 1 || !strings.Contains(sent[0].Body, "INC-7 SEV1: checkout is down") || !strings.Contains(sent[0].Body, "Reply 1") ||
		sent[0].StatusCallback != "https://klaxon.example.com/twilio/status?delivery=p%3A0%3A0%3Aalice%3Asms" {
		t.Fatalf("Twilio has %+v", sent)
	}
	ref, found, err := sms.Sent(context.Background(), d)
	if err != nil || !found || ref != res.Ref {
		t.Fatalf("look-up: %q %v %v, want %s", ref, found, err, res.Ref)
	}
	// Another rule step's text to the same phone is not this one.
	if _, found, _ := sms.Sent(context.Background(), delivery("p:1:0:alice:sms", "+14155550100")); found {
		t.Fatal("the look-up took another step's text for this one")
	}
}

func TestSMSWithoutPublicURLSaysToAckInChat(t *testing.T) {
	fake := notifytest.NewTwilio()
	defer fake.Close()
	res := notify.SMS{Twilio: twilio(fake, "")}.Send(context.Background(), delivery("k", "+14155550100"))
	sent := fake.Sent("", false)
	if !res.Sent || len(sent) != 1 || !strings.Contains(sent[0].Body, "Acknowledge in chat") || sent[0].StatusCallback != "" {
		t.Fatalf("%+v %+v", res, sent)
	}
}

func TestTwilioRefusals(t *testing.T) {
	fake := notifytest.NewTwilio()
	defer fake.Close()
	fake.Stopped["+14155550111"] = true
	fake.Blocked = []string{"+882"}
	sms := notify.SMS{Twilio: twilio(fake, "")}
	for _, tc := range []struct {
		to, want string
	}{
		{"+1415", "error 21211"},
		{"+14155550111", "error 21610"},
		{"+88212345678", "error 21408"},
	} {
		res := sms.Send(context.Background(), delivery("k", tc.to))
		if res.Sent || !res.Permanent || res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) {
			t.Errorf("to %s: %+v, want a refusal for good with %s", tc.to, res, tc.want)
		}
	}
	bad := twilio(fake, "")
	bad.Password = "wrong"
	res := notify.SMS{Twilio: bad}.Send(context.Background(), delivery("k", "+14155550100"))
	if !res.Permanent || strings.Contains(res.Err.Error(), "wrong") || !strings.Contains(res.Err.Error(), "401") {
		t.Errorf("bad credentials: %+v", res)
	}
	fake.FailNext = 1
	if res := sms.Send(context.Background(), delivery("k", "+14155550100")); res.Sent || res.Permanent {
		t.Errorf("500: %+v, want a retry", res)
	}
	fake.Limit = 1
	sms.Send(context.Background(), delivery("k1", "+14155550100"))
	if res := sms.Send(context.Background(), delivery("k2", "+14155550100")); res.Sent || res.Permanent || res.RetryAfter <= 0 {
		t.Errorf("429: %+v, want a wait", res)
	}
	if len(fake.Violations) > 0 {
		t.Errorf("violations: %v", fake.Violations)
	}
}

func TestTwilioCheck(t *testing.T) {
	fake := notifytest.NewTwilio()
	defer fake.Close()
	tw := twilio(fake, "")
	if err := tw.Check(context.Background()); err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	tw.From = "+14155550199"
	if err := tw.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "notifications.twilio.from") {
		t.Errorf("a number not on the account: %v", err)
	}
	tw.From, tw.Password = fake.Numbers[0], "wrong"
	if err := tw.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "auth_token") {
		t.Errorf("a wrong token: %v", err)
	}
	// An API key authenticates too.
	tw.Username, tw.Password = fake.APIKey, fake.APISecret
	if err := tw.Check(context.Background()); err != nil {
		t.Errorf("API key: %v", err)
	}
}

func TestCallAsksForOne(t *testing.T) {
	fake := notifytest.NewTwilio()
	defer fake.Close()
	tw := twilio(fake, "https://klaxon.example.com")
	voice := notify.Voice{Twilio: tw}
	d := delivery("p:0:0:alice:voice", "+14155550100")
	d.Summary = "private incident INC-7 (SEV1)"
	res := voice.Send(context.Background(), d)
	calls := fake.Sent("+14155550100", true)
	if !res.Sent || len(calls) != 1 || !strings.HasPrefix(res.Ref, "CA") {
		t.Fatalf("%+v %+v", res, calls)
	}
	twiml := calls[0].Twiml
	if !strings.Contains(twiml, "<Gather numDigits=\"1\"") || !strings.Contains(twiml, "Press 1 to acknowledge") || !strings.Contains(twiml, "private incident incident 7 (sev 1)") {
		t.Fatalf("TwiML %s", twiml)
	}
	i := strings.Index(twiml, "?t=")
	token, _ := url.QueryUnescape(twiml[i+3 : strings.Index(twiml[i:], "\"")+i])
	page, person, err := tw.Links.Check(token, time.Now())
	if err != nil || page != d.PageID || person != "alice" {
		t.Fatalf("the key press would acknowledge %v %q (%v)", page, person, err)
	}
	// Without a public URL the call reads the page and says to use chat.
	quiet := notify.Voice{Twilio: twilio(fake, "")}.TwiML(d)
	if strings.Contains(quiet, "Gather") || !strings.Contains(quiet, "Acknowledge in chat") {
		t.Fatalf("TwiML without a public URL: %s", quiet)
	}
}

func TestLinks(t *testing.T) {
	l := &notify.Links{Key: []byte("k1"), TTL: time.Hour}
	page, now := uuid.New(), time.Now()
	tok := l.Token(page, "alice", now)
	if p, who, err := l.Check(tok, now.Add(59*time.Minute)); err != nil || p != page || who != "alice" {
		t.Fatalf("%v %q %v", p, who, err)
	}
	if _, _, err := l.Check(tok, now.Add(61*time.Minute)); err == nil {
		t.Error("an expired link works")
	}
	if _, _, err := (&notify.Links{Key: []byte("k2")}).Check(tok, now); err == nil {
		t.Error("a link signed with another key works")
	}
	// Another person's name spliced into the payload breaks the signature.
	other := l.Token(page, "bob", now)
	if _, _, err := l.Check(other[:strings.Index(other, ".")]+tok[strings.Index(tok, "."):], now); err == nil {
		t.Error("a tampered link works")
	}
}

func TestNtfy(t *testing.T) {
	fake := notifytest.NewNtfy()
	defer fake.Close()
	fake.Tokens["tk_alice"] = true
	fake.Protected["alice-pager"] = "tk_alice"
	n := &notify.Ntfy{Server: fake.Server.URL, PublicURL: "https://klaxon.example.com", Links: &notify.Links{Key: []byte("k")},
		Tokens: map[string]string{"alice": "tk_alice"}, Client: http.DefaultClient,
		IncidentURL: func(d bot.Delivery) string { return "https://klaxon.example.com/status" }}
	d := delivery("k", "alice-pager")
	if res := n.Send(context.Background(), d); !res.Sent {
		t.Fatalf("push: %+v", res)
	}
	got := fake.Pushes("alice-pager")
	if len(got) != 1 || got[0].Priority != 5 || got[0].Message != d.Summary || got[0].Click == "" ||
		len(got[0].Actions) != 1 || got[0].Actions[0].Method != "POST" || !strings.HasPrefix(got[0].Actions[0].URL, "https://klaxon.example.com/ack/") {
		t.Fatalf("pushed %+v", got)
	}
	// Bob has no token for alice's topic: refused for good, naming the fix.
	d.Person = "bob"
	res := n.Send(context.Background(), d)
	if res.Sent || !res.Permanent || !strings.Contains(res.Err.Error(), "403") || !strings.Contains(res.Err.Error(), "push_token") {
		t.Fatalf("forbidden: %+v", res)
	}
	if err := n.Check(context.Background()); err != nil {
		t.Fatalf("check: %v", err)
	}
	n.Token = "tk_wrong"
	if err := n.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("check with a wrong token: %v", err)
	}
	fake.Limit = 1
	d.Person = "alice"
	if res := n.Send(context.Background(), d); res.Sent || res.Permanent || res.RetryAfter <= 0 {
		t.Fatalf("429: %+v", res)
	}
}
