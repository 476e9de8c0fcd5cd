// Package bot is klaxon's vocabulary: the domain types (Incident, Severity,
// Status, Role, Event, Person), the rules that govern them, and the
// interfaces (Chat, Store, Clock) through which the rest of klaxon talks.
//
// It imports only the standard library and small helpers. Platform adapters
// live in subpackages (bot/console, later bot/slack and bot/discord) and
// translate their payloads into Requests and Activities once, at the edge.
// Use cases live in package commands; persistence lives in package store.
package bot
