package bot

import (
	"context"
	"time"
)

// Session is one signed-in browser of the web console. The cookie holds
// a random secret; the store keeps only its hash (ID), so a copy of the
// store opens no session.
type Session struct {
	ID     string    `json:"id"`     // hex SHA-256 of the cookie's secret
	Person string    `json:"person"` // the klaxon person signed in
	CSRF   string    `json:"csrf"`   // the token every state-changing request carries
	Via    string    `json:"via"`    // the identity provider (its issuer)
	Start  time.Time `json:"start"`
	Seen   time.Time `json:"seen"` // last use, kept to the minute
}

// SessionStore reads sessions (written through Tx.PutSession).
type SessionStore interface {
	// Session finds a session by ID; ENOTFOUND when there is none.
	Session(ctx context.Context, id string) (*Session, error)
}
