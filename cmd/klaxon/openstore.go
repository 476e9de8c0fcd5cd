package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"

	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/pg"
)

// openStore opens the configured store: the bbolt file (mustExist: an
// offline command on a mistyped path fails rather than make a new one) or
// the PostgreSQL database.
func openStore(ctx context.Context, cfg *Config, mustExist bool) (store.Backend, error) {
	if cfg.Store.Driver == "postgres" {
		return pg.Open(ctx, cfg.Store.Postgres.DSN.Reveal())
	}
	return store.Open(cfg.Store.Path, store.Options{LockTimeout: cfg.Store.LockTimeout, MustExist: mustExist})
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
