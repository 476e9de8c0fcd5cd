package bolt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

var ctx = context.Background()

func TestCreateIncidentAssignsNumbersAndIndexes(t *testing.T) {
	s := openTemp(t)
	for i := 1; i <= 3; i++ {
		inc := newIncident(fmt.Sprintf("incident %d", i))
		inc.Channel = bot.ChannelRef{ID: fmt.Sprintf("C%d", i), Name: fmt.Sprintf("inc-%d", i)}
		if err := create(s, inc, bot.NewEvent(bot.EventDeclared, inc.DeclaredBy, t0, "declared")); err != nil {
			t.Fatal(err)
		}
		if inc.Number != int64(i) {
			t.Errorf("incident %d got number %d", i, inc.Number)
		}
	}
	byNum, err := s.IncidentByNumber(ctx, 2)
	if err != nil || byNum.Title != "incident 2" {
		t.Fatalf("IncidentByNumber(2) = %+v, %v; want incident 2", byNum, err)
	}
	byID, err := s.Incident(ctx, byNum.ID)
	if err != nil || byID.Number != 2 {
		t.Fatalf("Incident(%s) = %+v, %v", byNum.ID, byID, err)
	}
	byChan, err := s.IncidentByChannel(ctx, bot.PlatformConsole, "C3")
	if err != nil || byChan.Number != 3 {
		t.Fatalf("IncidentByChannel(C3) = %+v, %v", byChan, err)
	}
	if _, err := s.IncidentByChannel(ctx, bot.PlatformSlack, "C3"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("IncidentByChannel on another platform: err = %v, want not found", err)
	}
	if _, err := s.IncidentByNumber(ctx, 99); bot.ErrorCode(err) != bot.ENOTFOUND || bot.ErrorMessage(err) != "INC-99 does not exist." {
		t.Errorf("IncidentByNumber(99): err = %v", err)
	}
	n, err := s.CountEvents(ctx, byNum.ID)
	if err != nil || n != 1 {
		t.Errorf("CountEvents = %d, %v; want 1 (the declared event)", n, err)
	}
}

func TestListIncidentsNewestFirstAndActiveOnly(t *testing.T) {
	s := openTemp(t)
	for i := 1; i <= 4; i++ {
		inc := newIncident(fmt.Sprintf("incident %d", i))
		if i%2 == 0 {
			inc.Status = bot.StatusResolved
		}
		if err := create(s, inc); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListIncidents(ctx, bot.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if got := numbers(all); got != "4 3 2 1" {
		t.Errorf("all incidents = %s; want 4 3 2 1", got)
	}
	active, _ := s.ListIncidents(ctx, bot.IncidentFilter{ActiveOnly: true})
	if got := numbers(active); got != "3 1" {
		t.Errorf("active incidents = %s; want 3 1", got)
	}
	limited, _ := s.ListIncidents(ctx, bot.IncidentFilter{Limit: 2})
	if got := numbers(limited); got != "4 3" {
		t.Errorf("limited incidents = %s; want 4 3", got)
	}
}

func numbers(incs []*bot.Incident) string {
	var parts []string
	for _, inc := range incs {
		parts = append(parts, fmt.Sprint(inc.Number))
	}
	return strings.Join(parts, " ")
}

func TestUpdateIncidentIsAtomic(t *testing.T) {
	s := openTemp(t)
	inc := newIncident("db down")
	inc.Channel = bot.ChannelRef{ID: "C1"}
	if err := create(s, inc); err != nil {
		t.Fatal(err)
	}

	// A failing update writes neither the incident nor its events.
	_, err := updateIncident(s, inc.ID, func(i *bot.Incident) ([]bot.Event, error) {
		i.Title = "changed"
		return nil, bot.Errorf(bot.ECONFLICT, "no")
	})
	if bot.ErrorCode(err) != bot.ECONFLICT {
		t.Fatalf("err = %v; want the fn's conflict", err)
	}
	got, _ := s.Incident(ctx, inc.ID)
	if got.Title != "db down" {
		t.Errorf("title after failed update = %q", got.Title)
	}

	// A successful update moves the channel index and appends its events.
	updated, err := updateIncident(s, inc.ID, func(i *bot.Incident) ([]bot.Event, error) {
		i.Channel = bot.ChannelRef{ID: "C2"}
		i.Number = 1000 // identity must not change
		return []bot.Event{bot.NewEvent(bot.EventChannel, bot.User{}, t0, "moved")}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Number != inc.Number {
		t.Errorf("number changed to %d", updated.Number)
	}
	if _, err := s.IncidentByChannel(ctx, bot.PlatformConsole, "C1"); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("old channel still indexed: %v", err)
	}
	if got, err := s.IncidentByChannel(ctx, bot.PlatformConsole, "C2"); err != nil || got.ID != inc.ID {
		t.Errorf("new channel not indexed: %v", err)
	}
	evs, _ := s.Events(ctx, inc.ID, 0, 0)
	if len(evs) != 1 || evs[0].Text != "moved" || evs[0].IncidentID != inc.ID || evs[0].Seq != 1 {
		t.Errorf("events = %+v", evs)
	}
	if _, err := updateIncident(s, bot.NewID(), func(*bot.Incident) ([]bot.Event, error) { return nil, nil }); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("update of unknown incident: err = %v", err)
	}
}

func TestTimelineAppendRangeCount(t *testing.T) {
	s := openTemp(t)
	inc := newIncident("timeline")
	if err := create(s, inc); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 10; i++ {
		ev := bot.NewEvent(bot.EventMessage, bot.User{ID: "bob"}, t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("msg %d", i))
		ev.IncidentID = inc.ID
		ok, err := appendEvent(s, &ev)
		if err != nil || !ok {
			t.Fatalf("AppendEvent #%d = %v, %v", i, ok, err)
		}
		if ev.Seq != uint64(i) {
			t.Errorf("event %d got seq %d", i, ev.Seq)
		}
	}
	page, err := s.Events(ctx, inc.ID, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, ev := range page {
		texts = append(texts, ev.Text)
	}
	if got := strings.Join(texts, ","); got != "msg 4,msg 5,msg 6" {
		t.Errorf("Events(from 4, limit 3) = %s", got)
	}
	if n, _ := s.CountEvents(ctx, inc.ID); n != 10 {
		t.Errorf("CountEvents = %d; want 10", n)
	}
	orphan := bot.NewEvent(bot.EventMessage, bot.User{}, t0, "x")
	orphan.IncidentID = bot.NewID()
	if _, err := appendEvent(s, &orphan); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("append to unknown incident: err = %v", err)
	}
}

func TestLastAboutFindsTheNewestMatchWithinItsLimit(t *testing.T) {
	s := openTemp(t)
	inc := newIncident("edits")
	if err := create(s, inc); err != nil {
		t.Fatal(err)
	}
	ref := bot.MessageRef{Channel: "C1", ID: "m1"}
	add := func(kind bot.EventKind, r bot.MessageRef, text string) {
		ev := bot.NewEvent(kind, bot.User{ID: "bob"}, t0, text)
		ev.IncidentID, ev.Ref = inc.ID, r
		if _, err := appendEvent(s, &ev); err != nil {
			t.Fatal(err)
		}
	}
	add(bot.EventMessage, ref, "first")
	add(bot.EventMessageEdit, ref, "second")
	add(bot.EventReaction, ref, "")
	add(bot.EventMessage, bot.MessageRef{Channel: "C1", ID: "m2"}, "other")
	for _, c := range []struct {
		limit int
		kinds []bot.EventKind
		want  string
		found bool
	}{
		{10, []bot.EventKind{bot.EventMessage, bot.EventMessageEdit}, "second", true},
		{10, []bot.EventKind{bot.EventMessage}, "first", true},
		{2, []bot.EventKind{bot.EventMessage, bot.EventMessageEdit}, "", false}, // the edit is the third newest
	} {
		ev, found, err := s.LastAbout(ctx, inc.ID, ref, c.limit, c.kinds...)
		if err != nil || found != c.found || ev.Text != c.want {
			t.Errorf("LastAbout(limit %d, %v) = %q, %v, %v; want %q, %v", c.limit, c.kinds, ev.Text, found, err, c.want, c.found)
		}
	}
}

func TestDeduplicationSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s := openAt(t, path)
	inc := newIncident("dedup")
	if err := create(s, inc); err != nil {
		t.Fatal(err)
	}
	appendOnce := func(s *bolt.Store, source string) bool {
		t.Helper()
		ev := bot.NewEvent(bot.EventMessage, bot.User{ID: "bob"}, t0, "hello")
		ev.IncidentID, ev.SourceID = inc.ID, source
		ok, err := appendEvent(s, &ev)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !appendOnce(s, "slack:Ev1") {
		t.Fatal("first delivery was not appended")
	}
	if appendOnce(s, "slack:Ev1") {
		t.Error("redelivery was appended again")
	}
	closeChecked(t, s)

	s = openAt(t, path)
	if appendOnce(s, "slack:Ev1") {
		t.Error("redelivery after restart was appended again")
	}
	if !appendOnce(s, "slack:Ev2") {
		t.Error("a new event was refused")
	}
	if n, _ := s.CountEvents(ctx, inc.ID); n != 2 {
		t.Errorf("CountEvents = %d; want 2", n)
	}
}

func TestPruneSeen(t *testing.T) {
	s := openTemp(t)
	inc := newIncident("prune")
	if err := create(s, inc); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		ev := bot.NewEvent(bot.EventMessage, bot.User{}, t0.Add(time.Duration(i)*time.Hour), "m")
		ev.IncidentID, ev.SourceID = inc.ID, fmt.Sprintf("ev%d", i)
		if _, err := appendEvent(s, &ev); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.PruneSeen(t0.Add(3 * time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("PruneSeen = %d, %v; want 3 (ev0..ev2)", n, err)
	}
	// ev3 is still remembered; ev0 is forgotten and could be recorded again.
	ev := bot.NewEvent(bot.EventMessage, bot.User{}, t0, "m")
	ev.IncidentID, ev.SourceID = inc.ID, "ev3"
	if ok, _ := appendEvent(s, &ev); ok {
		t.Error("ev3 was forgotten too early")
	}
	if n, _ := s.CountEvents(ctx, inc.ID); n != 5 {
		t.Errorf("pruning touched the timeline: %d events", n)
	}
}

func TestConcurrentWriters(t *testing.T) {
	s := openTemp(t)
	inc := newIncident("busy")
	if err := create(s, inc); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*2)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ev := bot.NewEvent(bot.EventMessage, bot.User{ID: fmt.Sprint(w)}, t0, "m")
				ev.IncidentID = inc.ID
				// Every writer also redelivers an event another writer sends.
				ev.SourceID = fmt.Sprintf("src-%d", (w*each+i)%(writers*each/2))
				if _, err := appendEvent(s, &ev); err != nil {
					errs <- err
				}
				if i%10 == 0 {
					_, err := updateIncident(s, inc.ID, func(i *bot.Incident) ([]bot.Event, error) {
						i.LastUpdate = fmt.Sprint(w)
						return []bot.Event{bot.NewEvent(bot.EventUpdate, bot.User{}, t0, "u")}, nil
					})
					if err != nil {
						errs <- err
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	evs, err := s.Events(ctx, inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantMessages, wantUpdates := writers*each/2, writers*(each/10)
	var messages, updates int
	sources := map[string]bool{}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: sequence has gaps or repeats", i, ev.Seq)
		}
		switch ev.Kind {
		case bot.EventMessage:
			messages++
			if sources[ev.SourceID] {
				t.Errorf("source %s recorded twice", ev.SourceID)
			}
			sources[ev.SourceID] = true
		case bot.EventUpdate:
			updates++
		}
	}
	if messages != wantMessages || updates != wantUpdates {
		t.Errorf("got %d messages and %d updates; want %d and %d", messages, updates, wantMessages, wantUpdates)
	}
}

func TestOpenLockedFileSaysAnotherKlaxonIsRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	openAt(t, path)
	start := time.Now()
	_, err := bolt.Open(path, bolt.Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second Open: err = %v; want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), "another klaxon is running on this file") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q should name the file and say another klaxon is running", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("Open waited %s; it must give up after its lock timeout", waited)
	}
}

func TestBackupAndExport(t *testing.T) {
	s := openTemp(t)
	for i := range 3 {
		inc := newIncident(fmt.Sprintf("incident %d", i+1))
		if err := create(s, inc, bot.NewEvent(bot.EventDeclared, bot.User{ID: "a"}, t0, "declared"), bot.NewEvent(bot.EventNote, bot.User{ID: "a"}, t0, "note")); err != nil {
			t.Fatal(err)
		}
	}
	dst := filepath.Join(t.TempDir(), "backup.db")
	n, err := s.BackupFile(dst)
	if err != nil || n == 0 {
		t.Fatalf("BackupFile = %d, %v", n, err)
	}
	// The store stays usable while and after backing up.
	if err := create(s, newIncident("after backup")); err != nil {
		t.Fatal(err)
	}
	b := openAt(t, dst)
	list, _ := b.ListIncidents(ctx, bot.IncidentFilter{})
	if got := numbers(list); got != "3 2 1" {
		t.Errorf("backup holds incidents %q; want 3 2 1", got)
	}

	var out bytes.Buffer
	incs, evs, err := b.Export(&out)
	if err != nil || incs != 3 || evs != 6 {
		t.Fatalf("Export = %d incidents, %d events, %v; want 3, 6", incs, evs, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 9 {
		t.Fatalf("export has %d lines; want 9", len(lines))
	}
	var first, second store.ExportRecord
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first.Type != "incident" || first.Incident.Number != 1 || second.Type != "event" || second.Event.IncidentID != first.Incident.ID {
		t.Errorf("export starts with %s / %s; want incident 1 then its first event", lines[0], lines[1])
	}
}

func TestOnCallHistoryIsAppendOnly(t *testing.T) {
	s := openTemp(t)
	var ids []string
	for i := range 3 {
		c := &bot.OnCallChange{Kind: bot.ChangeOverride, Author: bot.User{ID: "alice"}, At: t0.Add(time.Duration(i) * time.Minute),
			Override: &bot.Override{ID: bot.NewID(), Schedule: "payments", Person: fmt.Sprint("p", i), Start: t0, End: t0.Add(time.Hour)}}
		if err := s.Update(ctx, func(tx bot.Tx) error { return tx.AddOnCallChange(c) }); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID.String())
		if i == 0 {
			if err := s.Update(ctx, func(tx bot.Tx) error { return tx.AddOnCallChange(c) }); err == nil {
				t.Error("the same change was stored twice")
			}
		}
	}
	got, err := s.OnCallChanges(ctx)
	if err != nil || len(got) != 3 {
		t.Fatalf("OnCallChanges = %d, %v", len(got), err)
	}
	for i, c := range got {
		if c.ID.String() != ids[i] || c.Override.Person != fmt.Sprint("p", i) {
			t.Errorf("change %d = %+v; want the order they were made", i, c)
		}
	}
}

func TestEachEventStreamsInOrderAndStops(t *testing.T) {
	s := openTemp(t)
	inc := newIncident("stream")
	var evs []bot.Event
	for i := range 1300 { // more than two decode chunks
		evs = append(evs, bot.NewEvent(bot.EventMessage, bot.User{ID: "u"}, t0, fmt.Sprint(i)))
	}
	if err := create(s, inc, evs...); err != nil {
		t.Fatal(err)
	}
	for name, each := range map[string]func(context.Context, uuid.UUID, func(bot.Event) error) error{"full": s.EachEvent, "brief": s.EachEventBrief} {
		n := 0
		err := each(ctx, inc.ID, func(ev bot.Event) error {
			if ev.Text != fmt.Sprint(n) || ev.Seq != uint64(n+1) {
				return fmt.Errorf("event %d is %q (seq %d)", n, ev.Text, ev.Seq)
			}
			n++
			return nil
		})
		if err != nil || n != 1300 {
			t.Errorf("%s: read %d events, %v", name, n, err)
		}
		stopAt := errors.New("enough")
		n = 0
		err = each(ctx, inc.ID, func(bot.Event) error {
			if n++; n == 700 {
				return stopAt
			}
			return nil
		})
		if !errors.Is(err, stopAt) || n != 700 {
			t.Errorf("%s: stopping at 700: n = %d, err = %v", name, n, err)
		}
	}
	if err := s.EachEvent(ctx, bot.NewID(), func(bot.Event) error { return nil }); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Errorf("unknown incident: %v", err)
	}
}
