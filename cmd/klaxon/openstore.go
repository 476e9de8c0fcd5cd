package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/bolt"
	"github.com/klaxon-bot/klaxon/store/pg"
)

// openStore opens the configured store: the bbolt file (mustExist: an
// offline command on a mistyped path fails rather than make a new one) or
// the PostgreSQL database.
func openStore(ctx context.Context, cfg *Config, mustExist bool) (store.Backend, error) {
	if cfg.Store.Driver == "postgres" {
		return pg.Open(ctx, cfg.Store.Postgres.DSN.Reveal())
	}
	return bolt.Open(cfg.Store.Path, bolt.Options{LockTimeout: cfg.Store.LockTimeout, MustExist: mustExist})
}

// storeName says where the store is, for logs and `config check`: never
// the DSN, which may hold a password.
func (c *Config) storeName() string {
	if c.Store.Driver == "postgres" {
		return "postgres"
	}
	return c.Store.Path
}

// leaseOf is the leader lease of replicas on PostgreSQL, or nil on bbolt
// (one process per file: it always leads).
func leaseOf(s store.Backend, cfg *Config) lease {
	p, ok := s.(*pg.Store)
	if !ok {
		return nil
	}
	return p.Lease("leader", replicaID(), cfg.Store.Postgres.Lease)
}

// replicaID names this process among replicas: host, pid and a random
// suffix (a restarted process is a new holder).
func replicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// migrate copies one store into the other, empty one and checks the copy:
// the same records of each kind, the same digest.
func (m *Main) migrate(ctx context.Context, cfg *Config, to string) error {
	if cfg.Store.Postgres.DSN == "" {
		return &ConfigError{Key: "store.postgres.dsn", Reason: "is required to migrate (or KLAXON_STORE_POSTGRES_DSN)"}
	}
	var (
		from, dest store.Backend
		err        error
	)
	switch to {
	case "postgres":
		if from, err = bolt.Open(cfg.Store.Path, bolt.Options{LockTimeout: cfg.Store.LockTimeout, MustExist: true}); err != nil {
			return err
		}
		defer from.Close()
		if dest, err = pg.Open(ctx, cfg.Store.Postgres.DSN.Reveal()); err != nil {
			return err
		}
		defer dest.Close()
	case "bbolt":
		if _, err := os.Stat(cfg.Store.Path); err == nil {
			return fmt.Errorf("migrate: %s exists: move it away first (klaxon copies into a new file)", cfg.Store.Path)
		}
		if from, err = pg.Open(ctx, cfg.Store.Postgres.DSN.Reveal()); err != nil {
			return err
		}
		defer from.Close()
		if dest, err = bolt.Open(cfg.Store.Path, bolt.Options{LockTimeout: cfg.Store.LockTimeout}); err != nil {
			return err
		}
		defer dest.Close()
	default:
		return fmt.Errorf("migrate: --to must be postgres or bbolt")
	}
	tally, err := store.Copy(ctx, from, dest)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	fmt.Fprintf(m.Stdout, "copied to %s and verified: %d incidents, %d timeline events, %d pages, %d follow-ups, %d on-call changes, %d outbox jobs (%d records in all), digest %s\n",
		to, tally.Counts[store.KindIncident], tally.Counts[store.KindEvent], tally.Counts[store.KindPage], tally.Counts[store.KindFollowUp],
		tally.Counts[store.KindOnCall], tally.Counts[store.KindJob], total(tally.Counts), tally.Digest[:16])
	fmt.Fprintf(m.Stdout, "now set store.driver: %s and start klaxon\n", to)
	return nil
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}
