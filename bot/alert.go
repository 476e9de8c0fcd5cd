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
	Declared int `json:"declared"` // incidents declared
	Recorded int `json:"recorded"` // alerts appended to an incident's timeline
	// Repeated are alerts sent again unchanged (still firing, say): their
	// incident counts them, its timeline says it once.
	Repeated  int      `json:"repeated"`
	Ignored   int      `json:"ignored"`   // resolutions of groups with no open incident
	Incidents []string `json:"incidents"` // INC-n touched, in order
}

// AlertState is what an incident's timeline last says of one alert, and
// how often the alert came again unchanged since.
type AlertState struct {
	Title   string    `json:"title"`
	State   string    `json:"state"` // firing or resolved
	Since   time.Time `json:"since"` // when the timeline said so
	Repeats int       `json:"repeats,omitempty"`
	LastAt  time.Time `json:"last_at,omitzero"` // the latest repeat
}

// alertKey names one alert of a timeline event: its group and its
// identity within it (its title and labels, as the intake wrote them).
// Events that are not alerts have none.
func alertKey(ev Event) (string, bool) {
	if ev.Kind != EventAlert || ev.Meta["group"] == "" {
		return "", false
	}
	return ev.Meta["group"] + "\x1f" + ev.Meta["alert"], true
}

// NoteAlert reports whether ev belongs on inc's timeline, and notes it:
// every event but an alert that says what the timeline last said of it
// (firing again while firing), which is counted on inc instead.
func (inc *Incident) NoteAlert(ev Event) bool {
	key, ok := alertKey(ev)
	if !ok {
		return true
	}
	state := ev.Meta["state"]
	cur, seen := inc.Alerts[key]
	switch {
	case seen && cur.State == state:
		cur.Repeats++
		cur.LastAt = ev.Time
		inc.Alerts[key] = cur
		return false
	case inc.Alerts == nil:
		inc.Alerts = map[string]AlertState{}
	case !seen && len(inc.Alerts) >= MaxAlertStates:
		// The incident is rewritten with every alert it takes: it keeps the
		// alerts heard from last, and one it forgot is written once more
		// when it comes again.
		var oldest string
		var at time.Time
		for k, st := range inc.Alerts {
			if heard := st.heard(); oldest == "" || heard.Before(at) {
				oldest, at = k, heard
			}
		}
		delete(inc.Alerts, oldest)
	}
	inc.Alerts[key] = AlertState{Title: ev.Meta["title"], State: state, Since: ev.Time}
	return true
}

// MaxAlertStates bounds the alerts an incident remembers (NoteAlert).
const MaxAlertStates = 500

// heard is when the alert last came.
func (st AlertState) heard() time.Time {
	if st.LastAt.After(st.Since) {
		return st.LastAt
	}
	return st.Since
}
