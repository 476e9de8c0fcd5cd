package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bigConfig has 1,000 people and 100 schedules (two layers of ten each),
// 100 services and 100 escalation policies.
func bigConfig() string {
	var b strings.Builder
	b.WriteString("people:\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "  - {id: p%d, name: Person %d, time_zone: Europe/Berlin}\n", i, i)
	}
	b.WriteString("services:\n")
	for i := range 100 {
		fmt.Fprintf(&b, "  - {id: s%d, escalation_policy: s%d}\n", i, i)
	}
	b.WriteString("schedules:\n")
	for i := range 100 {
		var a, c []string
		for j := range 10 {
			a = append(a, fmt.Sprintf("p%d", (i*10+j)%1000))
			c = append(c, fmt.Sprintf("p%d", (i*10+j+500)%1000))
		}
		fmt.Fprintf(&b, "  - {id: sched%d, service: s%d, time_zone: UTC, layers: [{rotation: weekly, start: 2026-01-05, participants: [%s]}, {rotation: daily, start: 2026-01-05, participants: [%s], restrictions: [{days: [sat, sun], from: \"00:00\", to: \"23:59\"}]}]}\n",
			i, i, strings.Join(a, ", "), strings.Join(c, ", "))
	}
	b.WriteString("escalation_policies:\n")
	for i := range 100 {
		fmt.Fprintf(&b, "  - {id: s%d, steps: [{delay: 5m, targets: [{schedule: sched%d}]}, {delay: 5m, targets: [{person: p%d}]}]}\n", i, i, i)
	}
	b.WriteString("api:\n  admin_token: " + reloadToken + "\n")
	return b.String()
}

// BenchmarkReload100Schedules1000People: POST /-/reload with 100 schedules
// and 1,000 people, while clients read the API and the status page; any
// answer other than 200 during a reload fails the benchmark.
func BenchmarkReload100Schedules1000People(b *testing.B) {
	addr := loopbackPort(b)
	base := "http://" + addr
	config := writeConfig(b, bigConfig())
	runMain(b, config, env{"KLAXON_STORE_PATH": filepath.Join(b.TempDir(), "k.db"), "KLAXON_HTTP_LISTEN": addr, "USER": "p1"}, base+"/healthz", nil)
	var failed, served atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, path := range []string{"/api/v1/oncall", "/status", "/api/v1/incidents"} {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", base+path, nil)
				req.Header.Set("Authorization", "Bearer "+reloadToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
				}
				if resp != nil {
					resp.Body.Close()
				}
				served.Add(1)
			}
		})
	}
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		req, _ := http.NewRequest("POST", base+"/-/reload", nil)
		req.Header.Set("Authorization", "Bearer "+reloadToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("reload: %v %v", resp, err)
		}
		resp.Body.Close()
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed during the reloads", n, served.Load())
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(served.Load()), "requests-during")
}
