package bot

import (
	"context"
	"encoding/json"
	"time"
)

// Outgoing event names, as hooks subscribe to them.
const (
	HookDeclared          = "incident.declared"
	HookUpdated           = "incident.updated"
	HookSeverityChanged   = "incident.severity_changed"
	HookAcknowledged      = "incident.acknowledged"
	HookMitigated         = "incident.mitigated"
	HookResolved          = "incident.resolved"
	HookClosed            = "incident.closed"
	HookFollowUpCreated   = "followup.created"
	HookPostmortemCreated = "postmortem.generated"
)

// HookEvents lists every event a hook can subscribe to.
func HookEvents() []string {
	return []string{HookDeclared, HookUpdated, HookSeverityChanged, HookAcknowledged, HookMitigated, HookResolved, HookClosed,
		HookFollowUpCreated, HookPostmortemCreated}
}

// HookDelivery is one event for one outgoing hook, kept in the hook
// outbox until it is sent or has failed for good.
type HookDelivery struct {
	Key         string          `json:"key"` // a UUID: the Idempotency-Key receivers see
	Hook        string          `json:"hook"`
	Event       string          `json:"event"`
	Body        json.RawMessage `json:"body"`
	Status      DeliveryStatus  `json:"status"`
	Attempts    int             `json:"attempts"`
	NextAttempt time.Time       `json:"next_attempt"`
	LastError   string          `json:"last_error,omitempty"`
	Created     time.Time       `json:"created"`
	SentAt      time.Time       `json:"sent_at,omitzero"`
}

// HookStore is the outbox of outgoing hooks.
type HookStore interface {
	EnqueueHooks(ctx context.Context, ds []HookDelivery) error
	DueHooks(ctx context.Context, now time.Time, limit int) ([]HookDelivery, error)
	UpdateHook(ctx context.Context, key string, fn func(*HookDelivery) error) (*HookDelivery, error)
	// RetryHooksNow makes the deliveries to hook that wait out a backoff
	// due at now, because it answered again; it returns how many there
	// were.
	RetryHooksNow(ctx context.Context, hook string, now time.Time) (int, error)
}
