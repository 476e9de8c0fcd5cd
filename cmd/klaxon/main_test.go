package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/tracker/trackerfake"
	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// klaxon runs the real program with args and stdin, as a user would.
type klaxon struct {
	t      testing.TB
	config string
	env    env
}

func newKlaxon(t *testing.T, yaml string) *klaxon {
	t.Helper()
	db := filepath.Join(t.TempDir(), "klaxon.db")
	return &klaxon{t: t, config: writeConfig(t, yaml), env: env{"USER": "alice", "KLAXON_STORE_PATH": db, "KLAXON_HTTP_LISTEN": "127.0.0.1:0"}}
}

func (k *klaxon) run(stdin string, args ...string) (stdout, stderr string, err error) {
	k.t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: k.env.get}
	err = m.Execute(context.Background(), append(args, "--config", k.config))
	return out.String(), errOut.String(), err
}

func TestConsoleAcceptanceScript(t *testing.T) {
	k := newKlaxon(t, "")
	out, logs, err := k.run("/incident declare \"Checkout is down\" sev:1\n/incident update investigating\n/incident resolve\n", "run")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	for _, want := range []string{
		"* klaxon created channel #inc-1-checkout-is-down", // the channel
		"* klaxon invited @alice to #inc-1-checkout-is-down",
		"🔴 INC-1 · SEV1 · Checkout is down", // the summary
		"* klaxon pinned m1 in #inc-1-checkout-is-down",
		"── #incidents · klaxon · m2 ──", // the announcement
		"INC-1* declared: Checkout is down",
		"@alice posted an update: investigating",
		"@alice ✅ resolved INC-1 after", // the resolution
		"✅ Resolved",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Logs are JSON lines on stderr, apart from the chat on stdout.
	sc := bufio.NewScanner(strings.NewReader(logs))
	var started bool
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("log line is not JSON: %q", sc.Text())
		}
		started = started || line["message"] == "klaxon started"
	}
	if !started {
		t.Errorf("no start-up log line in %q", logs)
	}

	// After a restart the incident is still there.
	out, _, err = k.run("/incident list all\n", "run")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "*INC-1* · SEV1 · resolved · Checkout is down") {
		t.Errorf("after restart, list shows:\n%s", out)
	}
}

func TestBackupAndExportCommands(t *testing.T) {
	k := newKlaxon(t, "")
	if _, logs, err := k.run("/incident declare DB down sev:2\nthe primary is gone\n", "run"); err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	// The message in #general is not an incident channel, so only the
	// declaration's own events are on the timeline.
	backup := filepath.Join(t.TempDir(), "backup.db")
	out, _, err := k.run("", "backup", backup)
	if err != nil || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: %q, %v", out, err)
	}
	b, err := bolt.Open(backup, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inc, err := b.IncidentByNumber(context.Background(), 1)
	b.Close()
	if err != nil || inc.Title != "DB down" {
		t.Errorf("backup holds %+v, %v", inc, err)
	}

	out, logs, err := k.run("", "export")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "exported 1 incidents and 4 timeline events") {
		t.Errorf("export summary = %q", logs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first store.ExportRecord
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Incident == nil || first.Incident.Title != "DB down" {
		t.Errorf("first export line = %s (%v)", lines[0], err)
	}
	if len(lines) != 5 {
		t.Errorf("export has %d lines; want 1 incident + 4 events", len(lines))
	}
	// To a file: owner only, even over a file that was world-readable.
	file := filepath.Join(t.TempDir(), "export.jsonl")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, logs, err := k.run("", "export", "-o", file); err != nil {
		t.Fatalf("export -o: %v\n%s", err, logs)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Errorf("export file: %v, %v; want mode 0600 and the export in it", fi.Mode(), err)
	}
}

func TestMessagesInIncidentChannelReachTheTimeline(t *testing.T) {
	k := newKlaxon(t, "")
	script := "/incident declare DB down\nthe primary is gone\n/react 📌 m3\n"
	if _, logs, err := k.run(script, "run"); err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	out, _, _ := k.run("", "export")
	var kinds []string
	var highlighted bool
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec store.ExportRecord
		json.Unmarshal([]byte(line), &rec)
		if rec.Event != nil {
			kinds = append(kinds, string(rec.Event.Kind))
			highlighted = highlighted || (rec.Event.Kind == bot.EventReaction && rec.Event.Highlight)
		}
	}
	if got := strings.Join(kinds, ","); got != "declared,role,channel,message,reaction" {
		t.Errorf("timeline = %s", got)
	}
	if !highlighted {
		t.Error("the 📌 reaction is not a highlight")
	}
}

func TestRunRefusesALockedStore(t *testing.T) {
	k := newKlaxon(t, "store:\n  lock_timeout: 100ms\n")
	path := k.env["KLAXON_STORE_PATH"]
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, _, err = k.run("", "run")
	if err == nil || !strings.Contains(err.Error(), "another klaxon is running on this file") {
		t.Errorf("run on a locked file: err = %v", err)
	}
}

func TestVersionAndCheck(t *testing.T) {
	k := newKlaxon(t, "")
	out, _, err := k.run("", "version")
	if err != nil || !strings.HasPrefix(out, "klaxon dev (go") {
		t.Errorf("version = %q, %v", out, err)
	}
	out, _, err = k.run("", "config", "check")
	if err != nil || !strings.Contains(out, "config OK") || !strings.Contains(out, "mode console") {
		t.Errorf("config check = %q, %v", out, err)
	}
	bad := writeConfig(t, "bogus: 1\n")
	m := &Main{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: env{}.get}
	if err := m.Execute(context.Background(), []string{"config", "check", "--config", bad}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("config check of a bad file: %v", err)
	}
}

// running is the real klaxon program running in the background, as
// `klaxon run` with a config and an environment, until the test ends.
type running struct {
	t      testing.TB
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

func runKlaxon(t testing.TB, configYAML string, e env) *running {
	t.Helper()
	e["KLAXON_LOG_LEVEL"] = "debug"
	e["KLAXON_HTTP_LISTEN"] = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	m := &Main{Stdin: strings.NewReader(""), Stdout: r.logs, Stderr: r.logs, Getenv: e.get}
	config := writeConfig(t, configYAML)
	go func() { r.done <- m.Execute(ctx, []string{"run", "--config", config}) }()
	t.Cleanup(r.stop)
	return r
}

// stop shuts klaxon down as SIGTERM would and checks it exits cleanly.
func (r *running) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("klaxon exited with %v; logs:\n%s", err, r.logs)
		}
	case <-time.After(wait):
		r.t.Errorf("klaxon did not stop; logs:\n%s", r.logs)
	}
}

// waitFor waits for cond on a fake, failing the test with the logs.
func (r *running) waitFor(fake interface {
	WaitFor(time.Duration, func() bool) bool
}, what string, cond func() bool) {
	r.t.Helper()
	if !fake.WaitFor(wait, cond) {
		r.t.Fatalf("timed out waiting for %s; logs:\n%s", what, r.logs)
	}
}

// syncBuffer collects output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestConsolePostmortemEndToEnd(t *testing.T) {
	k := newKlaxon(t, "")
	script := strings.Join([]string{
		`/incident declare "Checkout is down" sev:1`,
		"the LB health checks fail since the 03:10 deploy",
		"/react 📌 m3",
		"rolling back the deploy",
		"/incident followup Add a canary for the LB config @bob due:2099-12-01",
		"/incident resolve rolled back the deploy",
	}, "\n") + "\n"
	out, logs, err := k.run(script, "run")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	if !strings.Contains(out, "📎 INC-1-postmortem.md") || !strings.Contains(out, "📎 INC-1-timeline.txt") {
		t.Fatalf("the draft was not posted:\n%s", out)
	}
	// On the console the draft is a file, and its path is printed.
	path := filepath.Join(filepath.Dir(k.env["KLAXON_STORE_PATH"]), "files", "INC-1-postmortem.md")
	if !strings.Contains(out, "→ "+path) {
		t.Errorf("the draft's path %s is not printed:\n%s", path, out)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Errorf("draft file: %v, %v", fi, err)
	}
	s, err := bolt.Open(k.env["KLAXON_STORE_PATH"], bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	inc, _ := s.IncidentByNumber(context.Background(), 1)
	md, err := s.Postmortem(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	draft := string(md)
	order := []string{
		"# INC-1: Checkout is down",
		"reaction: the LB health checks fail since the 03:10 deploy", // the 📌 key event
		"followup: Add a canary for the LB config",
		"🚨 declared SEV1: Checkout is down",
		"✅ resolved INC-1 after",
		"## Resolution\n\nrolled back the deploy",
		"- [ ] F-1: Add a canary for the LB config (owner @bob) (due 2099-12-01)",
		"| Time to resolve (TTR) |",
		"| @alice | commander, declared, gave roles, added follow-ups, resolved | 2 |",
	}
	last := -1
	for _, want := range order {
		i := strings.Index(draft, want)
		if i < 0 {
			t.Errorf("draft lacks %q:\n%s", want, draft)
			continue
		}
		if i < last {
			t.Errorf("%q is out of order", want)
		}
		last = i
	}
}

// Follow-ups become tickets in the configured tracker, and /followup done
// closes them: klaxon against the strict GitHub fake, as a user runs it.
func TestConsoleFollowUpTickets(t *testing.T) {
	gh := trackerfake.NewGitHub("acme/payments", "ghp-test-token-1")
	defer gh.Close()
	k := newKlaxon(t, `
trackers:
  - id: payments-gh
    type: github
    repo: acme/payments
    api_url: `+gh.URL()+`
    token: ghp-test-token-1
services:
  - {id: payments, name: Payments, tracker: payments-gh}
`)
	script := strings.Join([]string{
		`/incident declare "Card payments fail" service:payments`,
		"/incident followup Add a circuit breaker @bob",
		"/followup done F-1",
	}, "\n") + "\n"
	out, logs, err := k.run(script, "run")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	issues := gh.Issues("acme/payments")
	if len(issues) != 1 || issues[0].Title != "Add a circuit breaker" || issues[0].State != "closed" {
		t.Fatalf("GitHub issues: %+v\n%s", issues, out)
	}
	if !strings.Contains(out, "🎫 F-1 → payments#1 https://github.example/acme/payments/issues/1") {
		t.Errorf("the ticket's link is not in the channel:\n%s", out)
	}
	if strings.Contains(out+logs, "ghp-test-token-1") {
		t.Error("the token reached the output or the log")
	}
}
