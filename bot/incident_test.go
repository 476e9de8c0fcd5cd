package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

var t0 = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

func incidentIn(status bot.Status) *bot.Incident {
	inc := &bot.Incident{Number: 7, Title: "db down", Severity: bot.DefaultSeverities()[1], Status: status, DeclaredAt: t0}
	if status == bot.StatusAcknowledged {
		inc.AcknowledgedAt = t0
	}
	return inc
}

func TestLifecycleTransitions(t *testing.T) {
	type action struct {
		name string
		do   func(*bot.Incident, time.Time) error
	}
	ack := action{"acknowledge", func(i *bot.Incident, at time.Time) error { return i.Acknowledge(bot.User{ID: "bob"}, at) }}
	mitigate := action{"mitigate", func(i *bot.Incident, at time.Time) error { return i.Mitigate(at) }}
	resolve := action{"resolve", func(i *bot.Incident, at time.Time) error { return i.Resolve(at, "") }}
	closeIt := action{"close", func(i *bot.Incident, at time.Time) error { return i.Close(at) }}
	reopen := action{"reopen", func(i *bot.Incident, at time.Time) error { return i.Reopen(at) }}
	update := action{"update", func(i *bot.Incident, at time.Time) error { return i.PostUpdate("still looking", at) }}

	tests := []struct {
		from   bot.Status
		action action
		want   bot.Status // "" means the action must be refused
	}{
		{bot.StatusOpen, ack, bot.StatusAcknowledged},
		{bot.StatusOpen, mitigate, bot.StatusMitigated},
		{bot.StatusOpen, resolve, bot.StatusResolved},
		{bot.StatusOpen, closeIt, ""},
		{bot.StatusOpen, reopen, ""},
		{bot.StatusOpen, update, bot.StatusOpen},
		{bot.StatusAcknowledged, ack, ""},
		{bot.StatusAcknowledged, mitigate, bot.StatusMitigated},
		{bot.StatusAcknowledged, resolve, bot.StatusResolved},
		{bot.StatusMitigated, mitigate, ""},
		{bot.StatusMitigated, resolve, bot.StatusResolved},
		{bot.StatusMitigated, ack, bot.StatusMitigated},
		{bot.StatusResolved, resolve, ""},
		{bot.StatusResolved, mitigate, ""},
		{bot.StatusResolved, ack, ""},
		{bot.StatusResolved, closeIt, bot.StatusClosed},
		{bot.StatusResolved, reopen, bot.StatusOpen},
		{bot.StatusResolved, update, bot.StatusResolved},
		{bot.StatusClosed, resolve, ""},
		{bot.StatusClosed, closeIt, ""},
		{bot.StatusClosed, reopen, ""},
		{bot.StatusClosed, update, ""},
		{bot.StatusClosed, mitigate, ""},
	}
	at := t0.Add(10 * time.Minute)
	for _, tt := range tests {
		inc := incidentIn(tt.from)
		before := *inc
		err := tt.action.do(inc, at)
		if tt.want == "" {
			if bot.ErrorCode(err) != bot.ECONFLICT {
				t.Errorf("%s from %s: err = %v; want a conflict", tt.action.name, tt.from, err)
			}
			if inc.Status != before.Status || inc.UpdatedAt != before.UpdatedAt {
				t.Errorf("%s from %s was refused but changed the incident to %s", tt.action.name, tt.from, inc.Status)
			}
			if msg := bot.ErrorMessage(err); msg == "" || !strings.Contains(msg, "INC-7") {
				t.Errorf("%s from %s: message %q should name the incident", tt.action.name, tt.from, msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s from %s: %v", tt.action.name, tt.from, err)
			continue
		}
		if inc.Status != tt.want {
			t.Errorf("%s from %s: status = %s; want %s", tt.action.name, tt.from, inc.Status, tt.want)
		}
		if inc.UpdatedAt != at {
			t.Errorf("%s from %s did not stamp UpdatedAt", tt.action.name, tt.from)
		}
	}
}

func TestResolveStampsTimesAndReopenClearsThem(t *testing.T) {
	inc := incidentIn(bot.StatusOpen)
	at := t0.Add(42 * time.Minute)
	if err := inc.Resolve(at, "rolled back"); err != nil {
		t.Fatal(err)
	}
	// The resolution is its own field: the summary stays.
	if inc.ResolvedAt != at || inc.MitigatedAt != at || inc.Resolution != "rolled back" || inc.Summary != "" {
		t.Errorf("after resolve: resolved %v, mitigated %v, resolution %q, summary %q", inc.ResolvedAt, inc.MitigatedAt, inc.Resolution, inc.Summary)
	}
	if err := inc.Reopen(at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if !inc.ResolvedAt.IsZero() || inc.Status != bot.StatusOpen || inc.Resolution != "" {
		t.Errorf("after reopen: status %s, resolved %v, resolution %q", inc.Status, inc.ResolvedAt, inc.Resolution)
	}
}

func TestSeverityAndRoleChanges(t *testing.T) {
	sevs := bot.DefaultSeverities()
	inc := incidentIn(bot.StatusOpen)
	prev, err := inc.SetSeverity(sevs[0], t0)
	if err != nil || prev.Name != "SEV2" || inc.Severity.Name != "SEV1" {
		t.Fatalf("SetSeverity(SEV1) = %v, %v; severity now %s", prev, err, inc.Severity)
	}
	if _, err := inc.SetSeverity(sevs[0], t0); bot.ErrorCode(err) != bot.ECONFLICT {
		t.Errorf("setting the same severity: err = %v; want conflict", err)
	}
	// A resolved incident keeps its severity: a change would read as a
	// re-escalation. Reopen first.
	for _, st := range []bot.Status{bot.StatusResolved, bot.StatusClosed} {
		done := incidentIn(st)
		if _, err := done.SetSeverity(sevs[0], t0); bot.ErrorCode(err) != bot.ECONFLICT || done.Severity.Name != "SEV2" {
			t.Errorf("changing the severity of a %s incident: %v, now %s; want a conflict and SEV2", st, err, done.Severity.Name)
		}
	}
	alice, bob := bot.User{ID: "alice"}, bot.User{ID: "bob"}
	if prev, err := inc.AssignRole(bot.RoleCommander, alice, t0); err != nil || !prev.IsZero() {
		t.Fatalf("AssignRole(alice) = %v, %v", prev, err)
	}
	if _, err := inc.AssignRole(bot.RoleCommander, alice, t0); bot.ErrorCode(err) != bot.ECONFLICT {
		t.Errorf("assigning the same person: err = %v; want conflict", err)
	}
	if prev, err := inc.AssignRole(bot.RoleCommander, bob, t0); err != nil || prev.ID != "alice" {
		t.Errorf("handover: prev = %v, %v; want alice", prev, err)
	}
	if c, ok := inc.Commander(); !ok || c.ID != "bob" {
		t.Errorf("Commander() = %v, %v; want bob", c, ok)
	}
}

func TestValidateTitleAndText(t *testing.T) {
	long := make([]rune, bot.MaxTitleRunes+1)
	for i := range long {
		long[i] = 'é'
	}
	tests := []struct {
		title string
		ok    bool
	}{
		{"Checkout is down", true},
		{"Zahlungen schlagen fehl 💳", true},
		{string(long[:bot.MaxTitleRunes]), true},
		{"", false},
		{"   ", false},
		{string(long), false},
	}
	for _, tt := range tests {
		err := bot.ValidateTitle(tt.title)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateTitle(%.20q) = %v; want ok=%v", tt.title, err, tt.ok)
		}
		if err != nil && bot.ErrorCode(err) != bot.EINVALID {
			t.Errorf("ValidateTitle(%.20q) code = %s; want invalid", tt.title, bot.ErrorCode(err))
		}
	}
}

func TestParseIncidentKey(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"INC-42", 42, true}, {"inc-7", 7, true}, {"INC42", 42, true}, {" INC-1 ", 1, true},
		{"INC-0", 0, false}, {"INC-", 0, false}, {"42", 0, false}, {"INC-4x", 0, false}, {"INC-9999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := bot.ParseIncidentKey(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseIncidentKey(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"}, {42 * time.Second, "42s"}, {42 * time.Minute, "42m"},
		{3*time.Hour + 5*time.Minute, "3h 05m"}, {52 * time.Hour, "2d 4h"},
	}
	for _, tt := range tests {
		if got := bot.Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q; want %q", tt.d, got, tt.want)
		}
	}
}
