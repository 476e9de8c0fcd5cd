//go:build !linux

package store

import bolt "go.etcd.io/bbolt"

// releasePages does nothing where madvise is not used.
func releasePages(*bolt.DB, *bolt.Tx) {}
