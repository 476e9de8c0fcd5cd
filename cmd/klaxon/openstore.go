package main

import (
	"context"

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
