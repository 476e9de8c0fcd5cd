//go:build !linux

package bolt

import bbolt "go.etcd.io/bbolt"

// releasePages does nothing where madvise is not used.
func releasePages(*bbolt.DB, *bbolt.Tx) {}
