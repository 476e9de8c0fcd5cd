package bot

import (
	"context"
	"time"
)

// IdempotencyRecord is the first answer to an API write sent with an
// Idempotency-Key: the same key and body within IdempotencyTTL gets it
// again and changes nothing. A record without a Status is a write still
// running (or cut short by a crash).
type IdempotencyRecord struct {
	Key         string    `json:"key"`  // the token name, a space, the client key
	Hash        string    `json:"hash"` // SHA-256 of the method, path and body
	Status      int       `json:"status,omitempty"`
	ContentType string    `json:"content_type,omitempty"`
	Body        []byte    `json:"body,omitempty"`
	Created     time.Time `json:"created"`
}

// IdempotencyTTL is how long an idempotency key is kept.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyStore forgets idempotency records made before a time
// (written through Tx.PutIdempotency).
type IdempotencyStore interface {
	PruneIdempotency(ctx context.Context, before time.Time) (int, error)
}
