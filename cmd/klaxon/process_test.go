package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot/slack/slackfake"
)

// process is the real klaxon binary, run as a child process against the
// fake Slack: for the crash loop and the start-up benchmark.
type process struct {
	cmd  *exec.Cmd
	logs *syncBuffer
}

func buildKlaxon(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "klaxon")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess runs `klaxon run args…` on db, connected to fake, and
// returns once it is connected.
func startProcess(t testing.TB, bin, db string, fake *slackfake.Server, args ...string) *process {
	t.Helper()
	before := fake.Connections()
	p := &process{cmd: exec.Command(bin, append([]string{"run"}, args...)...), logs: &syncBuffer{}}
	p.cmd.Env = append(os.Environ(),
		"KLAXON_STORE_PATH="+db, "KLAXON_SLACK_APP_TOKEN="+fake.AppToken, "KLAXON_SLACK_BOT_TOKEN="+fake.BotToken,
		"KLAXON_SLACK_API_URL="+fake.URL(), "KLAXON_SLACK_ANNOUNCE_CHANNEL=C0INCIDENTS", "KLAXON_HTTP_LISTEN=127.0.0.1:0",
		"KLAXON_LOG_FORMAT=json", "KLAXON_STORE_LOCK_TIMEOUT=10s")
	p.cmd.Dir = t.TempDir() // no stray config.yaml
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !fake.WaitFor(30*time.Second, func() bool { return fake.Connections() > before && fake.Connected() }) {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		t.Fatalf("klaxon did not connect; logs:\n%s", p.logs)
	}
	return p
}

func (p *process) kill() {
	p.cmd.Process.Kill() // SIGKILL: no shutdown, no flush
	p.cmd.Wait()
}

func (p *process) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("klaxon exited with %v on SIGTERM; logs:\n%s", err, p.logs)
		}
	case <-time.After(30 * time.Second):
		p.kill()
		t.Errorf("klaxon did not stop on SIGTERM; logs:\n%s", p.logs)
	}
}
