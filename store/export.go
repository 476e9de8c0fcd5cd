package store

import "github.com/klaxon-bot/klaxon/bot"

// ExportRecord is one line of an export: an incident, or one event of the
// incident exported before it.
type ExportRecord struct {
	Type     string        `json:"type"` // "incident" or "event"
	Incident *bot.Incident `json:"incident,omitempty"`
	Event    *bot.Event    `json:"event,omitempty"`
}
