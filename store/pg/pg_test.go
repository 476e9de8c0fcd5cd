package pg_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/pg"
	"github.com/klaxon-bot/klaxon/store/pgtest"
	"github.com/klaxon-bot/klaxon/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T) *pg.Store {
	t.Helper()
	s, err := pg.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend { return open(t) })
}

// TestReplicasMigrateOnce: three replicas opening a new database at once
// create the schema once (the advisory lock), and a database written by a
// newer klaxon is refused with what to do.
func TestReplicasMigrateOnce(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			s, err := pg.Open(ctx, dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("a replica could not open: %v", err)
		}
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows, version int
	if err := conn.QueryRow(ctx, `SELECT count(*), max(version) FROM klaxon_schema`).Scan(&rows, &version); err != nil || rows != 1 || version < 1 {
		t.Fatalf("klaxon_schema has %d rows, version %d (%v)", rows, version, err)
	}
	if _, err := conn.Exec(ctx, `UPDATE klaxon_schema SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "written by a newer klaxon") {
		t.Errorf("opening a newer schema: %v", err)
	}
}

// TestDSNStaysSecret: a DSN klaxon cannot parse or connect with never
// shows its password.
func TestDSNStaysSecret(t *testing.T) {
	for _, dsn := range []string{"postgres://klaxon:hunter2-secret@127.0.0.1:1/x?sslmode=disable&connect_timeout=1", "postgres://klaxon:hunter2-secret@[::1/x"} {
		_, err := pg.Open(context.Background(), dsn)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) = %v", "…", err)
		}
	}
}
