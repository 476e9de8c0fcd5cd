package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestRunsOnPostgreSQL: with store.driver postgres, klaxon declares,
// records and resolves an incident in the console; a restarted klaxon
// numbers the next one on from it; `klaxon export` reads both back; the DSN
// (with its password) appears in no output.
func TestRunsOnPostgreSQL(t *testing.T) {
	dsn := strings.Replace(pgtest.NewDatabase(t), "klaxon@", "klaxon:pg-secret-password@", 1) // trust auth ignores it
	k := newKlaxon(t, "")
	k.env["KLAXON_STORE_DRIVER"] = "postgres"
	k.env["KLAXON_STORE_POSTGRES_DSN"] = dsn
	out, logs, err := k.run("/incident declare \"Checkout is down\" sev:1\n/incident note rolled back the deploy\n/incident resolve\n", "run")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, logs)
	}
	if !strings.Contains(out, "🔴 INC-1 · SEV1 · Checkout is down") || !strings.Contains(logs, `"store":"postgres"`) {
		t.Fatalf("first run:\n%s\n%s", out, logs)
	}
	out, logs, err = k.run("/incident declare \"Second\" sev:2\n", "run")
	if err != nil || !strings.Contains(out, "INC-2 · SEV2 · Second") {
		t.Fatalf("second run: %v\n%s\n%s", err, out, logs)
	}
	export, _, err := k.run("", "export")
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(export), "\n") {
		var r store.ExportRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		if r.Incident != nil {
			titles = append(titles, r.Incident.Title)
		} else {
			kinds[string(r.Event.Kind)]++
		}
	}
	if strings.Join(titles, "|") != "Checkout is down|Second" || kinds["note"] != 1 || kinds["resolved"] != 1 {
		t.Errorf("export: incidents %v, events %v", titles, kinds)
	}
	check, _, err := k.run("", "config", "check")
	if err != nil || !strings.Contains(check, "store postgres") {
		t.Errorf("config check = %q, %v", check, err)
	}
	_, _, err = k.run("", "backup", t.TempDir()+"/x.db")
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup on PostgreSQL: %v; want it to point to pg_dump", err)
	}
	for _, s := range []string{out, logs, export, check} {
		if strings.Contains(s, "pg-secret-password") {
			t.Fatal("the DSN's password is in klaxon's output")
		}
	}
	// A DSN that is not one fails at start-up naming the key, not the value.
	k.env["KLAXON_STORE_POSTGRES_DSN"] = "host=db password=pg-secret-password port=notaport"
	if _, _, err := k.run("", "config", "check"); err == nil || !strings.Contains(err.Error(), "store.postgres.dsn") || strings.Contains(err.Error(), "pg-secret") {
		t.Errorf("a bad DSN: %v", err)
	}
}

// TestMigrateATeamToPostgreSQL: a team on bbolt stops klaxon, runs
// `klaxon migrate --to postgres`, switches the driver and carries on: the
// next incident is INC-2. `migrate --to bbolt` brings it back into a new
// file, and refuses to overwrite one.
func TestMigrateATeamToPostgreSQL(t *testing.T) {
	k := newKlaxon(t, "")
	if _, logs, err := k.run("/incident declare \"Checkout is down\" sev:1\n/incident note before the move\n", "run"); err != nil {
		t.Fatalf("run on bbolt: %v\n%s", err, logs)
	}
	k.env["KLAXON_STORE_POSTGRES_DSN"] = pgtest.NewDatabase(t)
	out, _, err := k.run("", "migrate", "--to", "postgres")
	if err != nil || !strings.Contains(out, "copied to postgres and verified: 1 incidents") {
		t.Fatalf("migrate = %q, %v", out, err)
	}
	k.env["KLAXON_STORE_DRIVER"] = "postgres"
	out, logs, err := k.run("/incident declare \"After the move\" sev:2\n", "run")
	if err != nil || !strings.Contains(out, "INC-2 · SEV2 · After the move") {
		t.Fatalf("run on PostgreSQL after the move: %v\n%s\n%s", err, out, logs)
	}
	if _, _, err := k.run("", "migrate", "--to", "bbolt"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("migrating onto an existing file: %v", err)
	}
	k.env["KLAXON_STORE_PATH"] = t.TempDir() + "/back.db"
	out, _, err = k.run("", "migrate", "--to", "bbolt")
	if err != nil || !strings.Contains(out, "2 incidents") {
		t.Fatalf("migrate back = %q, %v", out, err)
	}
	k.env["KLAXON_STORE_DRIVER"] = "bbolt"
	export, _, err := k.run("", "export")
	if err != nil || !strings.Contains(export, "before the move") || !strings.Contains(export, "After the move") {
		t.Errorf("export of the bbolt copy: %v\n%s", err, export)
	}
}
