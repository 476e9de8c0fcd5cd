package web

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Snapshot is klaxon's state at one scrape of /metrics.
type Snapshot struct {
	Incidents      map[IncidentClass]int // active and finished incidents
	MTTA, MTTR     time.Duration         // means over incidents declared in the last 30 days
	Deliveries     map[string]int        // page deliveries by status: pending, sent, failed
	OutboxDue      int                   // deliveries waiting for their next attempt
	TimelineEvents uint64                // every timeline event ever recorded
	Reconnects     map[string]uint64     // chat platform → reconnects since start
	Jobs           map[JobClass]int      // outbox jobs by destination and state
	// AlertStorms and StormGroups are, by alert source, the storm
	// incidents declared and the alert groups that joined one instead of
	// declaring their own, since start.
	AlertStorms, StormGroups map[string]uint64
}

// JobClass is the labels of klaxon_jobs.
type JobClass struct{ Destination, State string }

// IncidentClass is the labels of klaxon_incidents.
type IncidentClass struct{ Status, Severity string }

// Snapshotter takes a Snapshot; cmd/klaxon builds it from the store and
// the chat adapters.
type Snapshotter func(ctx context.Context) (Snapshot, error)

var (
	descIncidents  = prometheus.NewDesc("klaxon_incidents", "Incidents by status and severity.", []string{"status", "severity"}, nil)
	descMTTA       = prometheus.NewDesc("klaxon_mtta_seconds", "Mean time to acknowledge, incidents declared in the last 30 days.", nil, nil)
	descMTTR       = prometheus.NewDesc("klaxon_mttr_seconds", "Mean time to resolve, incidents declared in the last 30 days.", nil, nil)
	descDeliveries = prometheus.NewDesc("klaxon_page_deliveries", "Page deliveries (pager notifications) by status.", []string{"status"}, nil)
	descOutbox     = prometheus.NewDesc("klaxon_outbox_due", "Deliveries waiting in the outbox for their next attempt.", nil, nil)
	descEvents     = prometheus.NewDesc("klaxon_timeline_events_total", "Timeline events recorded; its rate is the ingest rate.", nil, nil)
	descReconnects = prometheus.NewDesc("klaxon_chat_reconnects_total", "Chat connections re-established since start.", []string{"platform"}, nil)
	descJobs       = prometheus.NewDesc("klaxon_jobs", "Unfinished jobs in the outbox by destination (a chat platform, pager:<id>, hook:<id>, tracker:<id>, smtp, subscribers) and state (pending, failed).", []string{"destination", "state"}, nil)
	descScrapeOK   = prometheus.NewDesc("klaxon_scrape_ok", "1 if klaxon could read its store for this scrape.", nil, nil)
	descStorms     = prometheus.NewDesc("klaxon_alert_storms_total", "Alert storm incidents declared since start, by alert source (alerts.storm).", []string{"source"}, nil)
	descStormGroup = prometheus.NewDesc("klaxon_alert_storm_groups_total", "Alert groups that joined a storm incident instead of declaring their own, since start, by source.", []string{"source"}, nil)
)

type collector struct {
	snapshot Snapshotter
	log      zerolog.Logger
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descIncidents, descMTTA, descMTTR, descDeliveries, descOutbox, descEvents, descReconnects, descJobs, descScrapeOK, descStorms, descStormGroup} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.snapshot(ctx)
	if err != nil {
		c.log.Error().Err(err).Msg("metrics: reading the store")
		ch <- prometheus.MustNewConstMetric(descScrapeOK, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrapeOK, prometheus.GaugeValue, 1)
	for k, n := range s.Incidents {
		ch <- prometheus.MustNewConstMetric(descIncidents, prometheus.GaugeValue, float64(n), k.Status, k.Severity)
	}
	ch <- prometheus.MustNewConstMetric(descMTTA, prometheus.GaugeValue, s.MTTA.Seconds())
	ch <- prometheus.MustNewConstMetric(descMTTR, prometheus.GaugeValue, s.MTTR.Seconds())
	for status, n := range s.Deliveries {
		ch <- prometheus.MustNewConstMetric(descDeliveries, prometheus.GaugeValue, float64(n), status)
	}
	ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(s.OutboxDue))
	ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(s.TimelineEvents))
	for p, n := range s.Reconnects {
		ch <- prometheus.MustNewConstMetric(descReconnects, prometheus.CounterValue, float64(n), p)
	}
	for k, n := range s.Jobs {
		ch <- prometheus.MustNewConstMetric(descJobs, prometheus.GaugeValue, float64(n), k.Destination, k.State)
	}
	for src, n := range s.AlertStorms {
		ch <- prometheus.MustNewConstMetric(descStorms, prometheus.CounterValue, float64(n), src)
	}
	for src, n := range s.StormGroups {
		ch <- prometheus.MustNewConstMetric(descStormGroup, prometheus.CounterValue, float64(n), src)
	}
}

// heapLive is the one runtime metric added to the default Go collector's:
// the heap held by live objects as of the last GC (go_gc_heap_live_bytes),
// which says whether memory grows, where the resident size also moves
// with GC timing and pages the runtime has not returned yet.
var heapLive = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}

// metricsHandler serves /metrics: klaxon's collector, plus Go runtime and
// process metrics, in the Prometheus text format.
func metricsHandler(s Snapshotter, log zerolog.Logger) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{snapshot: s, log: log}, collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(heapLive)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
