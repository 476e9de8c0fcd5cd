package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// A timeline longer than one release of the file's pages (8 MB) streams
// whole and in order: the values decoded after a release are read back
// from the page cache. A reader that stops early returns its error and
// leaves the store writable.
func TestLongTimelineStreamsAcrossPageReleases(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	inc := &bot.Incident{Title: "long", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen, Platform: bot.PlatformConsole, DeclaredAt: t0}
	const n = 40_000
	pad := strings.Repeat("x", 220)
	events := make([]bot.Event, n)
	for i := range events {
		events[i] = bot.NewEvent(bot.EventMessage, bot.User{ID: "u"}, t0.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("m%d %s", i, pad))
	}
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.CreateIncident(inc, events...) }); err != nil {
		t.Fatal(err)
	}
	seen := 0
	err := s.EachEventBrief(ctx, inc.ID, func(ev bot.Event) error {
		if want := fmt.Sprintf("m%d %s", seen, pad); ev.Text != want {
			return fmt.Errorf("event %d reads %.20q", seen, ev.Text)
		}
		seen++
		return nil
	})
	if err != nil || seen != n {
		t.Fatalf("streamed %d of %d: %v", seen, n, err)
	}
	stop := errors.New("enough")
	seen = 0
	err = s.EachEventBrief(ctx, inc.ID, func(bot.Event) error {
		if seen++; seen == 1000 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 1000 {
		t.Fatalf("early stop: %d events, %v", seen, err)
	}
	if err := s.Update(ctx, func(tx bot.Tx) error {
		return tx.AppendEvents(inc.ID, bot.NewEvent(bot.EventNote, bot.User{ID: "u"}, t0, "after"))
	}); err != nil {
		t.Fatalf("write after an early stop: %v", err)
	}
}

// The brief stream's decoder reads what encoding/json wrote exactly as
// encoding/json reads it: escapes, HTML-escaped <>&, emoji, control
// characters, names, times and flags.
func TestBriefStreamDecodesLikeEncodingJSON(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 28, 3, 0, 0, 123456789, time.FixedZone("CET", 3600))
	inc := &bot.Incident{Title: "tricky", Severity: bot.DefaultSeverities()[0], Status: bot.StatusOpen, Platform: bot.PlatformConsole, DeclaredAt: t0}
	texts := []string{`plain`, `quote " backslash \ slash /`, "<script>&amp;</script>", "emoji 🔥 and 日本語", "tab\tnewline\nnul\x00bell\x07",
		"\u2028\u2029 line separators", `\u0041 literally`, strings.Repeat("long ", 2000)}
	var events []bot.Event
	for i, text := range texts {
		ev := bot.NewEvent(bot.EventMessage, bot.User{ID: fmt.Sprintf("U%d", i), Name: "Zoë \"z\" <z>"}, t0.Add(time.Duration(i)*time.Second), text)
		ev.Highlight = i%2 == 0
		events = append(events, ev)
	}
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.CreateIncident(inc, events...) }); err != nil {
		t.Fatal(err)
	}
	want, err := s.Events(ctx, inc.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	err = s.EachEventBrief(ctx, inc.ID, func(ev bot.Event) error {
		w := want[i]
		if ev.Text != w.Text || ev.Actor != w.Actor || !ev.Time.Equal(w.Time) || ev.Kind != w.Kind || ev.Highlight != w.Highlight || ev.Seq != w.Seq {
			return fmt.Errorf("event %d: brief %+v, full %+v", i, ev, w)
		}
		if i < len(texts) && ev.Text != texts[i] {
			return fmt.Errorf("event %d text %q, want %q", i, ev.Text, texts[i])
		}
		i++
		return nil
	})
	if err != nil || i != len(want) {
		t.Fatalf("compared %d of %d: %v", i, len(want), err)
	}
}
