package bot

import (
	"strings"
	"testing"
	"time"
)

func TestParseRule(t *testing.T) {
	for in, want := range map[string]Rule{"sms 1m": {MethodSMS, time.Minute}, "PUSH 0m": {MethodPush, 0}, "voice 90s": {MethodVoice, 90 * time.Second}} {
		if got, err := ParseRule(in); err != nil || got != want {
			t.Errorf("ParseRule(%q) = %+v, %v", in, got, err)
		}
	}
	for in, want := range map[string]string{
		"sms":          "has no delay",
		"sms soon":     "is not a delay",
		"sms -1m":      "is not a delay",
		"sms 25h":      "is not a delay",
		"pigeon 1m":    "is not a contact method",
		"sms 1m 2m":    "is not a rule",
		"":             "is not a rule",
		"email 1m now": "is not a rule",
	} {
		if _, err := ParseRule(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRule(%q) = %v; want %q", in, err, want)
		}
	}
}

func TestValidateContact(t *testing.T) {
	good := map[Method]string{MethodSMS: "+14155550100", MethodVoice: "+442071838750", MethodEmail: "a@example.com", MethodPush: "alice-pager_1"}
	for m, to := range good {
		if err := ValidateContact(m, to); err != nil {
			t.Errorf("%s %q: %v", m, to, err)
		}
	}
	bad := map[Method][]string{MethodSMS: {"14155550100", "+1 415 555 0100", "+0155550100", "+1"}, MethodEmail: {"Alice <a@x.com>", "a", "a@b, c@d"},
		MethodPush: {"a/b", "", strings.Repeat("x", 65)}}
	for m, tos := range bad {
		for _, to := range tos {
			if err := ValidateContact(m, to); err == nil {
				t.Errorf("%s %q: accepted", m, to)
			}
		}
	}
}

func TestReachWithProfile(t *testing.T) {
	cfg := Reach{Contacts: []Contact{{Method: MethodSMS, To: "+14155550100", Verified: true}}, Rules: []Rule{{MethodSMS, 0}}}
	prof := &Profile{Contacts: []Contact{{Method: MethodPush, To: "t", FromChat: true}, {Method: MethodEmail, To: "a@x.io", FromChat: true, Verified: true}},
		Rules: []Rule{{MethodPush, 0}, {MethodEmail, time.Minute}, {MethodSMS, 2 * time.Minute}}}
	r := cfg.With(prof)
	steps := r.Steps()
	if len(steps) != 2 || steps[0].Method != MethodEmail || steps[1].Method != MethodSMS || steps[1].Contact.To != "+14155550100" {
		t.Fatalf("steps %+v: the unverified push must be skipped, the rest kept in order", steps)
	}
	if len(cfg.Contacts) != 1 {
		t.Fatal("With changed the configured reach")
	}
	if got := (Contact{Method: MethodSMS, To: "+14155550100"}).Masked(); got != "+1415•••0100" {
		t.Errorf("masked %q", got)
	}
}
