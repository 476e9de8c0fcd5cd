package bot

import (
	"fmt"
	"regexp"
	"strings"
)

// Service is something that can break: an incident's category, and later
// the key to its schedules and escalation policy.
type Service struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

var serviceID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// Validate checks a service's fields.
func (s Service) Validate() error {
	if !serviceID.MatchString(s.ID) {
		return fmt.Errorf("id: %q must be 1-40 lower-case letters, digits, '-' or '_'", s.ID)
	}
	return nil
}

// Services is the configured service catalogue.
type Services []Service

// Find looks a service up by id or name, ignoring case.
func (ss Services) Find(s string) (Service, bool) {
	for _, svc := range ss {
		if strings.EqualFold(s, svc.ID) || strings.EqualFold(s, svc.Name) {
			return svc, true
		}
	}
	return Service{}, false
}

// IDs lists the service ids, comma-separated.
func (ss Services) IDs() string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return strings.Join(ids, ", ")
}
