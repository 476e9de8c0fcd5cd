package bot

import (
	"context"
	"time"
)

// HeartbeatState is what klaxon remembers of one heartbeat: a monitoring
// pipeline that pings klaxon and is itself an incident when it falls
// silent.
type HeartbeatState struct {
	Name     string    `json:"name"`
	LastPing time.Time `json:"last_ping,omitzero"`
	Due      time.Time `json:"due"`    // when the next ping is overdue
	Missed   bool      `json:"missed"` // an alert for the silence is open
}

// HeartbeatStore keeps heartbeats and their due timers.
type HeartbeatStore interface {
	Heartbeat(ctx context.Context, name string) (HeartbeatState, bool, error)
	PutHeartbeat(ctx context.Context, hb HeartbeatState) error
	DueHeartbeats(ctx context.Context, now time.Time) ([]string, error)
}
