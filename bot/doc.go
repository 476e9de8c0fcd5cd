// Package bot is klaxon's vocabulary: the domain types (Incident, Severity,
// Status, Role, Event, Person), the rules that govern them, and the
// interfaces (Chat, Store, Clock) through which the rest of klaxon talks.
//
// It imports only the standard library and small helpers. Adapters live in
// subpackages (bot/slack, bot/discord, bot/console, bot/web, bot/pager,
// bot/tracker) and translate their payloads into Requests and Activities
// once, at the edge. Use cases live in package commands and its
// subpackages; persistence behind the contract of package store.
package bot
