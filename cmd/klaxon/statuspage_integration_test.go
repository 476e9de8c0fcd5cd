//go:build integration

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromiumBin finds Debian's chromium (which .ci/run installs).
func chromiumBin(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed: apt-get install chromium (.ci/run does)")
	return ""
}

// chromium loads url in headless Chromium (Debian's chromium, which
// .ci/run installs) and returns the DOM after it rendered; it also saves a
// screenshot to shot.
func chromium(t *testing.T, url, shot string) string {
	t.Helper()
	bin := chromiumBin(t)
	profile := t.TempDir()
	run := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
			"--user-data-dir=" + profile, "--window-size=1200,1400"}, args...)
		out, err := exec.CommandContext(ctx, bin, append(args, url)...).Output()
		if err != nil {
			t.Fatalf("chromium %v: %v", args, err)
		}
		return out
	}
	dom := string(run("--dump-dom"))
	run("--screenshot=" + shot)
	if info, err := os.Stat(shot); err != nil || info.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
	return dom
}

func TestStatusPageInHeadlessChromium(t *testing.T) {
	fake := newFake(t)
	k := startSlack(t, fake, filepath.Join(t.TempDir(), "klaxon.db"))
	base := "http://" + k.httpAddr()

	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Checkout is failing" sev:1 service:payments`))
	k.ack(fake.SlashCommand(alice, "C0GENERAL", "/incident", `declare "Leaked API key" sev:1 private`))
	k.waitFor("two incident channels", func() bool { return len(fake.Channels()) == 2 })
	// The two declarations run concurrently: find the public channel by
	// its flag, not by creation order.
	public := ""
	for _, ch := range fake.Channels() {
		if !ch.Private {
			public = ch.ID
		}
	}
	k.ack(fake.SlashCommand(alice, public, "/incident", "update --public Card payments fail for some customers; we are on it"))
	k.ack(fake.SlashCommand(alice, public, "/incident", "update rolling back deploy 8c1f2e of payments-svc"))
	// A slash command is acknowledged first and carried out after: wait
	// until both updates are in the channel, so the page can show them.
	k.waitFor("both updates", func() bool {
		var publicNotice, internalNotice bool
		for _, m := range fake.Messages(public) {
			publicNotice = publicNotice || strings.Contains(m.Rendered(), "posted a public update (status page): Card payments fail")
			internalNotice = internalNotice || strings.Contains(m.Rendered(), "posted an update: rolling back deploy 8c1f2e")
		}
		return publicNotice && internalNotice
	})

	artifacts := os.Getenv("KLAXON_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join("..", "..", "artifacts")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifacts, "status-page.png")
	dom := chromium(t, base+"/status", shot)
	for _, want := range []string{"Major outage", "Checkout is failing", "Card payments fail for some customers", `id="INC-1"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered status page lacks %q:\n%s", want, dom)
		}
	}
	for _, never := range []string{"Leaked API key", "INC-2", "8c1f2e"} {
		if strings.Contains(dom, never) {
			t.Errorf("the rendered status page shows %q", never)
		}
	}
	t.Logf("screenshot: %s", shot)
}
