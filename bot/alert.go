package bot

import "time"

// Alert is one alert from a monitoring system (Alertmanager, Grafana, the
// generic JSON intake), translated once at the HTTP edge.
type Alert struct {
	Source   string // alertmanager, grafana, generic
	GroupKey string // alerts with the same key are one incident while it is open
	Title    string
	Severity string // as the source says it; routes may override
	Service  string
	Type     string // the incident type a route gives it; empty: none
	Public   bool   // its route puts its incident on the status page at once
	Firing   bool   // false: this alert resolved
	// GroupResolved says the whole group resolved (Alertmanager's and
	// Grafana's top-level status), not just this alert of it.
	GroupResolved bool
	Labels        map[string]string
	Links         []string
	StartsAt      time.Time
	Detail        string
}

// AlertReceipt says what an alert intake did with a batch of alerts.
type AlertReceipt struct {
	Declared  int      `json:"declared"`  // incidents declared
	Recorded  int      `json:"recorded"`  // alerts appended to an incident's timeline
	Ignored   int      `json:"ignored"`   // resolutions of groups with no open incident
	Incidents []string `json:"incidents"` // INC-n touched, in order
}
