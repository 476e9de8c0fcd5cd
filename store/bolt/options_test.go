package bolt

import (
	"time"

	bbolt "go.etcd.io/bbolt"
)

// BoltOptions lets the benchmarks open their raw baseline with the same
// settings as the store, so the comparison is fair.
func BoltOptions() *bbolt.Options { return boltOptions(time.Second) }
