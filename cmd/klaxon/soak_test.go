//go:build soak

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot/pager"
)

// sample is one minute of the soak: what the klaxon process holds.
type sample struct {
	At         time.Duration
	RSS, Anon  int64 // kB: all resident memory, and the anonymous part (the heap, stacks)
	HeapLive   int64 // kB: the heap live objects held at the last GC (go_gc_heap_live_bytes)
	Goroutines int
	Files      int
	StoreBytes int64
	Incidents  int64
	Alerts     int64
	Messages   int64
	Acks       int64
}

const soakConfig = `
people:
  - {id: alice, name: Alice, slack_id: U0ALICE}
services:
  - {id: payments, escalation_policy: payments}
schedules:
  - {id: primary, service: payments, time_zone: UTC, layers: [{rotation: weekly, start: 2026-01-05, participants: [alice]}]}
escalation_policies:
  - {id: payments, steps: [{delay: 5m, targets: [{schedule: primary}]}]}
pagers:
  - {id: hook, type: webhook, url: "%s", secret: soak-signing-s3cret}
alerts:
  sources:
    - {name: generic, token: soak-generic-token-0123}
  routes:
    - {match: {team: payments}, service: payments}
api:
  admin_token: soak-admin-token-0123456789
`

// TestSoak runs the real binary against the fake Slack for SOAK_DURATION
// (default 1h): 10 alerts a second (a new alert group each minute, the
// last one resolved), 5 chat messages a second in the newest incident's
// channel, every page acknowledged through the API. Every minute it
// samples the process's resident memory, goroutines, open files and the
// store's size into artifacts/soak.csv and artifacts/soak.svg, and then
// checks that after the first sixth (10 minutes of an hour) the heap grew
// less than 10 % and goroutines and files did not grow.
func TestSoak(t *testing.T) {
	duration := time.Hour
	if s := os.Getenv("SOAK_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("SOAK_DURATION: %v", err)
		}
		duration = d
	}
	fake := newFake(t)
	var acks, triggers atomic.Int64
	var base atomic.Value // klaxon's HTTP address, once known
	hook := newWebhook(t, func(ev pager.WebhookEvent) {
		if ev.Event != "trigger" {
			return
		}
		triggers.Add(1)
		addr, _ := base.Load().(string)
		n := soakIncident(ev.Summary)
		if addr == "" || n == 0 {
			return
		}
		go func() { // acknowledge through the API, as a phone would
			req, _ := http.NewRequest("POST", "http://"+addr+"/api/v1/incidents/"+strconv.Itoa(n)+"/acknowledge", nil)
			req.Header.Set("Authorization", "Bearer soak-admin-token-0123456789")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					acks.Add(1)
				}
			}
		}()
	})
	bin := buildKlaxon(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(soakConfig, hook)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProcess(t, bin, db, fake, "--config", cfg)
	defer p.stop(t)
	var addr string
	for deadline := time.Now().Add(30 * time.Second); addr == ""; time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(p.logs.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("klaxon did not listen:\n%s", p.logs)
		}
	}
	base.Store(addr)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var alerts, messages atomic.Int64
	wg.Go(func() { // 10 alerts a second
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		last := -1
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			minute := int(time.Since(start) / time.Minute)
			if minute != last && last >= 0 {
				postSoakAlert(addr, last, "resolved")
			}
			last = minute
			if postSoakAlert(addr, minute, "firing") {
				alerts.Add(1)
			}
		}
	})
	wg.Go(func() { // 5 messages a second in the newest incident channel
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			chans := fake.Channels()
			if len(chans) == 0 {
				continue
			}
			fake.Say("U0ALICE", chans[len(chans)-1].ID, fmt.Sprintf("looking at the dashboards, note %d", i))
			messages.Add(1)
		}
	})

	var samples []sample
	start := time.Now()
	for time.Since(start) < duration {
		time.Sleep(min(time.Minute, duration-time.Since(start)))
		s := sampleProcess(t, p.cmd.Process.Pid, addr, db)
		s.At, s.Alerts, s.Messages, s.Acks, s.Incidents = time.Since(start).Round(time.Second), alerts.Load(), messages.Load(), acks.Load(), triggers.Load()
		samples = append(samples, s)
		t.Logf("%v: rss %d kB (anon %d, live heap %d), %d goroutines, %d files, store %d MB, %d alerts, %d messages, %d pages acknowledged",
			s.At, s.RSS, s.Anon, s.HeapLive, s.Goroutines, s.Files, s.StoreBytes>>20, s.Alerts, s.Messages, s.Acks)
	}
	close(stop)
	wg.Wait()
	writeSoakArtifacts(t, samples)

	if len(samples) < 2 {
		t.Fatalf("only %d samples", len(samples))
	}
	// The baseline is the first sample at or after a sixth of the run.
	var warm sample
	for _, s := range samples {
		if s.At >= duration/6 {
			warm = s
			break
		}
	}
	end := samples[len(samples)-1]
	if end.Anon > warm.Anon*110/100 {
		t.Errorf("the heap grew %d%% after warm-up: %d kB at %v, %d kB at the end", (end.Anon-warm.Anon)*100/warm.Anon, warm.Anon, warm.At, end.Anon)
	}
	switch {
	case warm.HeapLive == 0:
		t.Error("/metrics has no go_gc_heap_live_bytes")
	case end.HeapLive > warm.HeapLive*110/100:
		t.Errorf("the live heap grew %d%% after warm-up: %d kB at %v, %d kB at the end", (end.HeapLive-warm.HeapLive)*100/warm.HeapLive, warm.HeapLive, warm.At, end.HeapLive)
	}
	if end.Goroutines > warm.Goroutines+5 {
		t.Errorf("goroutines grew from %d at %v to %d", warm.Goroutines, warm.At, end.Goroutines)
	}
	if end.Files > warm.Files+2 {
		t.Errorf("open files grew from %d at %v to %d", warm.Files, warm.At, end.Files)
	}
	if end.Acks == 0 || end.Messages == 0 || end.Alerts == 0 {
		t.Errorf("the load did not run: %+v", end)
	}
}

// postSoakAlert posts one generic alert of the minute's group.
func postSoakAlert(addr string, minute int, status string) bool {
	body := fmt.Sprintf(`{"title": "Soak alert %d", "severity": "SEV2", "dedup_key": "soak-%d", "status": %q, "labels": {"team": "payments"}}`, minute, minute, status)
	req, _ := http.NewRequest("POST", "http://"+addr+"/alerts/generic", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer soak-generic-token-0123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

var incKey = regexp.MustCompile(`INC-(\d+)`)

func soakIncident(s string) int {
	m := incKey.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// newWebhook is a pager receiver calling fn with each event; it returns
// its URL.
func newWebhook(t *testing.T, fn func(pager.WebhookEvent)) string {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev pager.WebhookEvent
		json.NewDecoder(r.Body).Decode(&ev)
		fn(ev)
		w.WriteHeader(202)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// sampleProcess reads /proc for pid, go_goroutines from /metrics and the
// store's size.
func sampleProcess(t *testing.T, pid int, addr, db string) sample {
	var s sample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			s.RSS = n
		case "RssAnon:":
			s.Anon = n
		}
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	s.Files = len(fds)
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
				s.Goroutines, _ = strconv.Atoi(v)
			}
			if v, ok := strings.CutPrefix(sc.Text(), "go_gc_heap_live_bytes "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				s.HeapLive = int64(f) / 1024
			}
		}
		resp.Body.Close()
	}
	if fi, err := os.Stat(db); err == nil {
		s.StoreBytes = fi.Size()
	}
	return s
}

// writeSoakArtifacts writes the samples as CSV and as four small SVG
// charts, one per measure.
func writeSoakArtifacts(t *testing.T, samples []sample) {
	os.MkdirAll("../../artifacts", 0o755)
	var csv strings.Builder
	csv.WriteString("seconds,rss_kb,anon_kb,heap_live_kb,goroutines,open_files,store_bytes,alerts,messages,acks\n")
	for _, s := range samples {
		fmt.Fprintf(&csv, "%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", int(s.At.Seconds()), s.RSS, s.Anon, s.HeapLive, s.Goroutines, s.Files, s.StoreBytes, s.Alerts, s.Messages, s.Acks)
	}
	if err := os.WriteFile("../../artifacts/soak.csv", []byte(csv.String()), 0o644); err != nil {
		t.Error(err)
	}
	series := []struct {
		name string
		v    func(sample) float64
	}{
		{"resident memory (MB; heap and stacks dashed)", func(s sample) float64 { return float64(s.RSS) / 1024 }},
		{"live heap at the last GC (MB)", func(s sample) float64 { return float64(s.HeapLive) / 1024 }},
		{"goroutines", func(s sample) float64 { return float64(s.Goroutines) }},
		{"open files", func(s sample) float64 { return float64(s.Files) }},
		{"store (MB)", func(s sample) float64 { return float64(s.StoreBytes) / (1 << 20) }},
	}
	const w, h, pad = 640, 150, 40
	var svg strings.Builder
	fmt.Fprintf(&svg, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`, w, h*len(series))
	last := samples[len(samples)-1].At.Seconds()
	for i, sr := range series {
		top := float64(i * h)
		maxV := 1.0
		for _, s := range samples {
			maxV = max(maxV, sr.v(s))
		}
		x := func(s sample) float64 { return pad + (w-2*pad)*s.At.Seconds()/max(last, 1) }
		y := func(v float64) float64 { return top + h - pad/2 - (h-pad-10)*v/maxV }
		fmt.Fprintf(&svg, `<text x="%d" y="%.0f">%s, 0 to %.0f, over %s</text>`, pad, top+14, sr.name, maxV, samples[len(samples)-1].At)
		fmt.Fprintf(&svg, `<polyline fill="none" stroke="#0969da" stroke-width="2" points="`)
		for _, s := range samples {
			fmt.Fprintf(&svg, "%.1f,%.1f ", x(s), y(sr.v(s)))
		}
		svg.WriteString(`"/>`)
		if i == 0 {
			fmt.Fprintf(&svg, `<polyline fill="none" stroke="#cf222e" stroke-dasharray="4 3" stroke-width="2" points="`)
			for _, s := range samples {
				fmt.Fprintf(&svg, "%.1f,%.1f ", x(s), y(float64(s.Anon)/1024))
			}
			svg.WriteString(`"/>`)
		}
	}
	svg.WriteString("</svg>\n")
	if err := os.WriteFile("../../artifacts/soak.svg", []byte(svg.String()), 0o644); err != nil {
		t.Error(err)
	}
}
