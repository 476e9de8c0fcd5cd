package bot

import (
	"fmt"
	"testing"
	"time"
)

func alertEv(group, id, state string, at time.Time) Event {
	ev := NewEvent(EventAlert, User{ID: "alertmanager"}, at, "alert "+state)
	ev.Meta = map[string]string{"group": group, "alert": id, "title": "title " + id, "state": state}
	return ev
}

// An alert is written when it says something new of itself (first heard,
// resolved, firing again) and counted when it repeats; other events are
// always written.
func TestNoteAlertWritesChangesAndCountsRepeats(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	var inc Incident
	steps := []struct {
		ev    Event
		write bool
	}{
		{alertEv("g", "a", "firing", t0), true},
		{alertEv("g", "a", "firing", t0.Add(time.Second)), false},
		{alertEv("g", "a", "firing", t0.Add(2*time.Second)), false},
		{alertEv("g", "b", "firing", t0.Add(3*time.Second)), true},   // another alert of the group
		{alertEv("h", "a", "firing", t0.Add(4*time.Second)), true},   // the same id in another group
		{alertEv("g", "a", "resolved", t0.Add(5*time.Second)), true}, // a change
		{alertEv("g", "a", "resolved", t0.Add(6*time.Second)), false},
		{alertEv("g", "a", "firing", t0.Add(7*time.Second)), true},
		{NewEvent(EventMessage, User{ID: "u"}, t0, "hello"), true},
		{NewEvent(EventMessage, User{ID: "u"}, t0, "hello"), true},
	}
	for i, st := range steps {
		if got := inc.NoteAlert(st.ev); got != st.write {
			t.Fatalf("step %d (%s %v): written %v, want %v", i, st.ev.Kind, st.ev.Meta, got, st.write)
		}
	}
	a := inc.Alerts["g\x1fa"]
	if a.State != "firing" || a.Repeats != 0 || !a.Since.Equal(t0.Add(7*time.Second)) || a.Title != "title a" {
		t.Errorf("g/a = %+v; want firing since the last change, no repeats since", a)
	}
	inc = Incident{}
	inc.NoteAlert(alertEv("g", "a", "firing", t0))
	inc.NoteAlert(alertEv("g", "a", "firing", t0.Add(time.Minute)))
	if a := inc.Alerts["g\x1fa"]; a.Repeats != 1 || !a.LastAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("one repeat: %+v", a)
	}
}

// An incident remembers at most MaxAlertStates alerts: the one heard from
// longest ago goes, and is written once more if it comes again.
func TestNoteAlertForgetsTheAlertHeardFromLongestAgo(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	var inc Incident
	for i := range MaxAlertStates {
		inc.NoteAlert(alertEv("g", fmt.Sprint(i), "firing", t0.Add(time.Duration(i)*time.Second)))
	}
	inc.NoteAlert(alertEv("g", "0", "firing", t0.Add(time.Hour))) // heard again: now the newest
	if !inc.NoteAlert(alertEv("g", "new", "firing", t0.Add(2*time.Hour))) {
		t.Fatal("a new alert was not written")
	}
	if len(inc.Alerts) != MaxAlertStates {
		t.Fatalf("%d alerts remembered; want %d", len(inc.Alerts), MaxAlertStates)
	}
	if _, ok := inc.Alerts["g\x1f1"]; ok {
		t.Error("alert 1, heard from longest ago, is still remembered")
	}
	if _, ok := inc.Alerts["g\x1f0"]; !ok {
		t.Error("alert 0, heard again an hour in, was forgotten")
	}
	if !inc.NoteAlert(alertEv("g", "1", "firing", t0.Add(3*time.Hour))) {
		t.Error("a forgotten alert coming again was not written")
	}
}
