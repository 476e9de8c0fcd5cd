package main

import (
	"context"
	"net/url"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/insights"
)

// insightsSource computes insights reports over the store, for the web
// console (the viewer's incidents) and the API (public incidents).
type insightsSource struct{ a *app }

// Report implements webui.Insights.
func (s insightsSource) Report(ctx context.Context, q url.Values, visible func(*bot.Incident) bool) (*bot.InsightsReport, error) {
	f, err := insights.ParseFilter(q, s.a.clock.Now())
	if err != nil {
		return nil, err
	}
	return insights.Compute(ctx, s.a.store, s.a.policy.People, f, visible, s.a.clock.Now())
}

// CSV implements webui.Insights.
func (s insightsSource) CSV(r *bot.InsightsReport, chart string) ([][]string, error) {
	var sevs []string
	for _, sev := range s.a.cfg.severities() {
		sevs = append(sevs, sev.Name)
	}
	return insights.CSV(r, chart, sevs)
}

// public is the API's report: public incidents only.
func (s insightsSource) public(ctx context.Context, q url.Values) (*bot.InsightsReport, error) {
	return s.Report(ctx, q, func(inc *bot.Incident) bool { return !inc.Private })
}
