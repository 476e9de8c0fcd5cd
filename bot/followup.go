package bot

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// FollowUp is an action item from an incident. It outlives the incident.
type FollowUp struct {
	ID         uuid.UUID `json:"id"`
	Number     int64     `json:"number"` // F-12
	IncidentID uuid.UUID `json:"incident_id"`
	Incident   string    `json:"incident"` // INC-42
	Platform   Platform  `json:"platform"`
	Text       string    `json:"text"`
	Owner      User      `json:"owner,omitzero"`
	Due        Date      `json:"due,omitzero"`
	Done       bool      `json:"done,omitempty"`
	DoneAt     time.Time `json:"done_at,omitzero"`
	DoneBy     User      `json:"done_by,omitzero"`
	Created    time.Time `json:"created"`
	CreatedBy  User      `json:"created_by"`
	// Ticket is the follow-up's issue in a tracker (GitHub, Jira), when
	// its service has one: named at creation, filled in once made.
	Ticket *Ticket `json:"ticket,omitempty"`
}

// Key is the follow-up's human name, "F-12".
func (f *FollowUp) Key() string { return "F-" + strconv.FormatInt(f.Number, 10) }

// Overdue reports whether the follow-up is open past its due date in loc.
func (f *FollowUp) Overdue(now time.Time, loc *time.Location) bool {
	if f.Done || f.Due == (Date{}) {
		return false
	}
	return DateOf(now.In(loc)).DaysSince(f.Due) > 0
}

// FollowUpStore keeps follow-ups.
type FollowUpStore interface {
	FollowUp(ctx context.Context, number int64) (*FollowUp, error)
	FollowUps(ctx context.Context) ([]*FollowUp, error)
}
