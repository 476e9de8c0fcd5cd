package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartToConnected runs the real binary against the fake Slack on
// loopback: the time from exec to the Socket Mode connection (goal < 300
// ms), and the resident memory once it sits idle (goal < 30 MB).
func BenchmarkStartToConnected(b *testing.B) {
	bin := buildKlaxon(b)
	fake := newFake(b)
	var total time.Duration
	var rss float64
	for i := range b.N {
		db := filepath.Join(b.TempDir(), "klaxon.db")
		start := time.Now()
		p := startProcess(b, bin, db, fake)
		total += time.Since(start)
		if i == b.N-1 {
			time.Sleep(2 * time.Second) // idle: connected, nothing to do
			rss = residentMB(b, p.cmd.Process.Pid)
		}
		p.stop(b)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-connected")
	b.ReportMetric(rss, "idle-RSS-MB")
}

// residentMB reads VmRSS of a process from /proc.
func residentMB(tb testing.TB, pid int) float64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}
