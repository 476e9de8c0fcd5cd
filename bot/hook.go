package bot

import "encoding/json"

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

// HookDelivery is one event for one outgoing hook: the payload of a hook
// job (OpHook) in the outbox.
type HookDelivery struct {
	Key   string          `json:"key"` // a UUID: the Idempotency-Key receivers see
	Hook  string          `json:"hook"`
	Event string          `json:"event"`
	Body  json.RawMessage `json:"body"`
}
