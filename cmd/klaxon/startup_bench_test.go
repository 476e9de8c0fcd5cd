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
// ms), the resident memory once it sits idle (goal < 30 MB), and the CPU
// it uses idle (its scheduler ticks every second).
func BenchmarkStartToConnected(b *testing.B) {
	bin := buildKlaxon(b)
	fake := newFake(b)
	var total time.Duration
	var rss, cpu float64
	for i := range b.N {
		db := filepath.Join(b.TempDir(), "klaxon.db")
		start := time.Now()
		p := startProcess(b, bin, db, fake)
		total += time.Since(start)
		if i == b.N-1 {
			time.Sleep(2 * time.Second) // idle: connected, nothing to do
			rss = residentMB(b, p.cmd.Process.Pid)
			const window = 5 * time.Second
			before := cpuTicks(b, p.cmd.Process.Pid)
			time.Sleep(window)
			// Linux counts CPU time in USER_HZ ticks, 100 a second.
			cpu = float64(cpuTicks(b, p.cmd.Process.Pid)-before) / 100 / window.Seconds() * 100
		}
		p.stop(b)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-connected")
	b.ReportMetric(rss, "idle-RSS-MB")
	b.ReportMetric(cpu, "idle-CPU-%")
}

// cpuTicks reads the user and system CPU time of a process from /proc, in
// clock ticks.
func cpuTicks(tb testing.TB, pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		tb.Fatal(err)
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 12th and 13th of them.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	utime, _ := strconv.Atoi(fields[11])
	stime, _ := strconv.Atoi(fields[12])
	return utime + stime
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
