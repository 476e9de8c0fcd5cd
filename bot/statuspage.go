package bot

import "time"

// Service states on the status page, best first.
const (
	StateOperational = "operational"
	StateDegraded    = "degraded"     // a public incident below the top severity is active
	StateMajor       = "major_outage" // a public incident of the top severity is active
)

// StatusPage is what the public status page shows. Private incidents are
// never in it.
type StatusPage struct {
	Generated time.Time        `json:"generated"`
	State     string           `json:"state"` // the worst service state
	Services  []ServiceStatus  `json:"services"`
	Active    []PublicIncident `json:"active"`
	History   []PublicIncident `json:"history"` // resolved in the last 90 days, newest first
}

// ServiceStatus is one service's state.
type ServiceStatus struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
	// Days are the last 90 days, oldest first: each day's worst state
	// and the public incidents that touched it.
	Days []DayStatus `json:"days"`
}

// DayStatus is one day (UTC) of a service's history.
type DayStatus struct {
	Date      string   `json:"date"` // YYYY-MM-DD
	State     string   `json:"state"`
	Incidents []string `json:"incidents,omitempty"` // "INC-7 Checkout is down"
}

// PublicIncident is an incident as the public sees it: no channel, no
// people, only updates posted with --public.
type PublicIncident struct {
	Key      string         `json:"key"`
	Title    string         `json:"title"`
	Severity string         `json:"severity"`
	Label    string         `json:"severity_label"`
	Status   string         `json:"status"`
	Service  string         `json:"service,omitempty"`
	Started  time.Time      `json:"started"`
	Updated  time.Time      `json:"updated"`
	Resolved time.Time      `json:"resolved,omitzero"`
	Updates  []PublicUpdate `json:"updates"` // newest first
	Major    bool           `json:"-"`
	Duration string         `json:"-"`
}

// PublicUpdate is an update posted with /incident update --public.
type PublicUpdate struct {
	Time time.Time `json:"time"`
	Text string    `json:"text"`
}

// PublicStatus is how the status page says where an incident stands.
func PublicStatus(s Status) string {
	switch s {
	case StatusOpen:
		return "investigating"
	case StatusAcknowledged:
		return "identified"
	case StatusMitigated:
		return "monitoring"
	}
	return "resolved"
}
