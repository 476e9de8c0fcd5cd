//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// The real Prometheus Alertmanager (Debian's prometheus-alertmanager,
// which .ci/run installs) sends its webhooks to the real klaxon, connected
// to the fake Slack. Run with `make integration`.

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startAlertmanager(t *testing.T, webhook, token string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		if bin, err = exec.LookPath("alertmanager"); err != nil {
			t.Fatal("Alertmanager is not installed: apt-get install prometheus-alertmanager (.ci/run does)")
		}
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`route:
  receiver: klaxon
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: klaxon
    webhook_configs:
      - url: %s
        send_resolved: true
        http_config:
          authorization:
            credentials: %s
`, webhook, token)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager logs:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return "http://" + addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager did not get ready: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fire posts alerts to Alertmanager's API; a past end resolves them.
func fire(t *testing.T, am string, ends time.Time, alerts ...map[string]string) {
	t.Helper()
	var body []map[string]any
	for _, labels := range alerts {
		a := map[string]any{"labels": labels, "annotations": map[string]string{"summary": labels["summary"]},
			"generatorURL": "http://prometheus.example.com/graph"}
		delete(labels, "summary")
		if !ends.IsZero() {
			a["startsAt"] = ends.Add(-time.Minute).Format(time.RFC3339)
			a["endsAt"] = ends.Format(time.RFC3339)
		}
		body = append(body, a)
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(am+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("alertmanager refused the alerts: %s", resp.Status)
	}
}

func alert(name, instance, summary string) map[string]string {
	return map[string]string{"alertname": name, "instance": instance, "severity": "critical", "summary": summary}
}

func TestRealAlertmanagerDeclaresOneIncidentPerGroup(t *testing.T) {
	fake := newFake(t)
	db := filepath.Join(t.TempDir(), "klaxon.db")
	const token = "am-integration-token"
	k := runKlaxon(t, `
alerts:
  mitigate_on_resolve: true
  sources:
    - name: alertmanager
      token: `+token+`
  routes:
    - match: {alertname: "Disk.*"}
      severity: SEV2
`, env{"KLAXON_STORE_PATH": db, "KLAXON_SLACK_APP_TOKEN": fake.AppToken, "KLAXON_SLACK_BOT_TOKEN": fake.BotToken,
		"KLAXON_SLACK_API_URL": fake.URL(), "KLAXON_SLACK_ANNOUNCE_CHANNEL": "C0INCIDENTS"})
	k.waitFor(fake, "klaxon to connect", fake.Connected)
	addr := k.httpAddr()
	am := startAlertmanager(t, "http://"+addr+"/alerts/alertmanager", token)

	fire(t, am, time.Time{},
		alert("DiskFull", "db-1", "Disk almost full"), alert("DiskFull", "db-2", "Disk almost full"),
		alert("HighLatency", "api-1", "p99 latency above 2s"),
		alert("QueueBacklog", "worker-1", "Queue backlog growing"))
	k.waitFor(fake, "three incident channels", func() bool { return len(fake.Channels()) == 3 })

	// Repeats and a new alert in a known group: no new incident.
	fire(t, am, time.Time{}, alert("DiskFull", "db-1", "Disk almost full"), alert("DiskFull", "db-3", "Disk almost full"),
		alert("HighLatency", "api-1", "p99 latency above 2s"))
	time.Sleep(3 * time.Second) // two group intervals: anything Alertmanager sends has arrived
	if n := len(fake.Channels()); n != 3 {
		t.Fatalf("%d incident channels after repeats; want 3", n)
	}

	// The whole DiskFull group resolves: its incident is mitigated.
	past := time.Now().Add(-time.Second)
	fire(t, am, past, alert("DiskFull", "db-1", "Disk almost full"), alert("DiskFull", "db-2", "Disk almost full"),
		alert("DiskFull", "db-3", "Disk almost full"))
	disk := ""
	for _, c := range fake.Channels() {
		if strings.Contains(c.Name, "disk") {
			disk = c.Name
		}
	}
	if disk == "" {
		t.Fatalf("no channel for the DiskFull incident: %+v", fake.Channels())
	}
	k.waitFor(fake, "the DiskFull incident to be mitigated", func() bool {
		c, _ := fake.ChannelByName(disk)
		return strings.Contains(c.Topic, "mitigated")
	})
	k.stop()

	s, err := bolt.Open(db, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	incs, err := s.ListIncidents(context.Background(), bot.IncidentFilter{})
	if err != nil || len(incs) != 3 {
		t.Fatalf("%d incidents (%v); want 3", len(incs), err)
	}
	for _, inc := range incs {
		evs, _ := s.Events(context.Background(), inc.ID, 0, 0)
		var firing, resolved int
		for _, ev := range evs {
			if ev.Kind == bot.EventAlert {
				if ev.Meta["state"] == "resolved" {
					resolved++
				} else {
					firing++
				}
			}
		}
		switch inc.Title {
		case "Disk almost full":
			if inc.Severity.Name != "SEV2" || inc.Status != bot.StatusMitigated || firing < 3 || resolved < 3 {
				t.Errorf("%s: %s %s, %d firing and %d resolved alerts on the timeline", inc.Key(), inc.Severity.Name, inc.Status, firing, resolved)
			}
		case "p99 latency above 2s", "Queue backlog growing":
			if inc.Status != bot.StatusOpen || firing < 1 || resolved != 0 {
				t.Errorf("%s: %s, %d firing and %d resolved alerts", inc.Key(), inc.Status, firing, resolved)
			}
		default:
			t.Errorf("unexpected incident %s %q", inc.Key(), inc.Title)
		}
		if _, ok := inc.Commander(); ok || inc.DeclaredBy.Name != "alertmanager" {
			t.Errorf("%s: declared by %+v with roles %+v", inc.Key(), inc.DeclaredBy, inc.Roles)
		}
	}
}
