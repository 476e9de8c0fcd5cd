package bot

// InsightsReport is one insights report: what the insights charts, their CSV
// and the API show (computed by package commands/insights).
type InsightsReport struct {
	From      string         `json:"from"`
	To        string         `json:"to"`
	Weeks     []InsightsWeek `json:"weeks"`
	Pages     []PersonPages  `json:"pages"`
	FollowUps FollowUpCounts `json:"followups"`
	Incidents int            `json:"incidents"`
}

// InsightsWeek is one week (Monday, UTC) of a report. Times are seconds; -1 when
// no incident of the week was acknowledged (or resolved).
type InsightsWeek struct {
	Start      string         `json:"start"`
	BySeverity map[string]int `json:"by_severity"`
	TTAp50     float64        `json:"tta_p50_seconds"`
	TTAp90     float64        `json:"tta_p90_seconds"`
	TTRp50     float64        `json:"ttr_p50_seconds"`
	TTRp90     float64        `json:"ttr_p90_seconds"`
}

// PersonPages is how often a person was paged, and how often outside
// their working hours (Monday to Friday, 09:00–17:00 in their zone).
type PersonPages struct {
	Person   string `json:"person"`
	Name     string `json:"name"`
	Pages    int    `json:"pages"`
	OffHours int    `json:"off_hours"`
}

// FollowUpCounts are the follow-ups of the report's incidents.
type FollowUpCounts struct {
	Open    int `json:"open"`
	Overdue int `json:"overdue"`
}
