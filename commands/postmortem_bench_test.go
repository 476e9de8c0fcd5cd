package commands_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// BenchmarkPostmortem100kEvents renders the draft of an incident with
// 100,000 timeline events. It reports the bytes allocated per draft and
// the process's peak RSS while drafting (VmHWM, reset after the setup).
func BenchmarkPostmortem100kEvents(b *testing.B) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "k.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	inc := &bot.Incident{Title: "Big one", Severity: bot.DefaultSeverities()[0], Status: bot.StatusResolved, Platform: bot.PlatformConsole,
		DeclaredAt: t0, DetectedAt: t0, ResolvedAt: t0.Add(5 * time.Hour), DeclaredBy: bot.User{ID: "alice"}}
	events := make([]bot.Event, 0, 100_000)
	for i := range 100_000 {
		ev := bot.NewEvent(bot.EventMessage, bot.User{ID: "user" + strconv.Itoa(i%50)}, t0.Add(time.Duration(i)*100*time.Millisecond),
			fmt.Sprintf("message %d: the load balancer | health checks `are` flapping *again*", i))
		ev.Highlight = i%1000 == 0
		events = append(events, ev)
	}
	if err := s.Update(ctx, func(tx bot.Tx) error { return tx.CreateIncident(inc, events...) }); err != nil {
		b.Fatal(err)
	}
	events = nil
	runtime.GC()
	debug.FreeOSMemory()
	// Measure the draft's own peak: reset the process's peak RSS (Linux).
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	c := commands.New(s, []bot.Chat{console.New(&bytes.Buffer{})}, bot.NewFakeClock(t0), zerolog.Nop(), commands.Config{})
	var size int
	b.ReportAllocs()
	for b.Loop() {
		pm, err := c.Reports().Postmortem(ctx, inc)
		if err != nil {
			b.Fatal(err)
		}
		size = len(pm.Markdown) + len(pm.Log)
	}
	b.ReportMetric(float64(size)/1e6, "MB-output")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	// bbolt maps the file into memory: reading the whole timeline makes
	// its pages resident, so they count in RSS. Report the file's size.
	if st, err := os.Stat(s.Path()); err == nil {
		b.ReportMetric(float64(st.Size())/1e6, "db-file-MB")
	}
}

// peakRSSMB reads the process's peak resident set size from /proc.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}
