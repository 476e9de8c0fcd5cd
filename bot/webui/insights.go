package webui

import (
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
)

// Insights computes the report for a query over the incidents visible
// says the viewer may see, and a chart's CSV.
type Insights interface {
	Report(ctx context.Context, q url.Values, visible func(*bot.Incident) bool) (*bot.InsightsReport, error)
	CSV(r *bot.InsightsReport, chart string) ([][]string, error)
}

type insightsData struct {
	Query                   string
	From, To                string
	Service, Severity, Type string
	Services, Severities    []string
	Report                  *bot.InsightsReport
	Weekly, Times, Pages    template.HTML
}

func (u *UI) report(r *http.Request, s *bot.Session) (*bot.InsightsReport, error) {
	who := u.person(s)
	return u.cfg.Insights.Report(r.Context(), r.URL.Query(), func(inc *bot.Incident) bool {
		return u.cfg.Incidents.MayAccess(r.Context(), inc, actor(who, inc.Platform))
	})
}

// handleInsights draws the charts on the server as SVG, with numbers on
// every bar and patterns besides colours, so they read in dark mode and
// without colour.
func (u *UI) handleInsights(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	rep, err := u.report(r, s)
	if err != nil {
		u.problem(w, r, bot.HTTPStatus(err), "Insights", bot.ErrorMessage(err))
		return
	}
	q := r.URL.Query()
	d := insightsData{Query: r.URL.RawQuery, From: rep.From, To: rep.To, Service: q.Get("service"), Severity: q.Get("severity"), Type: q.Get("type"),
		Services: u.cfg.Services, Report: rep}
	for _, sev := range u.cfg.Severities {
		d.Severities = append(d.Severities, sev.Name)
	}
	d.Weekly = weeklyChart(rep, d.Severities)
	d.Times = timesChart(rep)
	d.Pages = pagesChart(rep)
	u.render(w, r, http.StatusOK, "insights", page{Title: "Insights", Person: u.person(s), CSRF: s.CSRF, Data: d})
}

// handleInsightsCSV serves one chart's data as CSV.
func (u *UI) handleInsightsCSV(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	rep, err := u.report(r, s)
	if err != nil {
		u.problem(w, r, bot.HTTPStatus(err), "Insights", bot.ErrorMessage(err))
		return
	}
	chart := r.URL.Query().Get("chart")
	rows, err := u.cfg.Insights.CSV(rep, chart)
	if err != nil {
		u.problem(w, r, http.StatusBadRequest, "Insights", bot.ErrorMessage(err))
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="klaxon-%s-%s-%s.csv"`, chart, rep.From, rep.To))
	cw := csv.NewWriter(w)
	cw.WriteAll(rows)
}

// Bars are drawn with a fill pattern per series (solid, stripes, dots,
// cross-hatch) and a number above each, so no colour has to be told
// apart.
var patterns = []string{"solid", "stripes", "dots", "hatch", "solid2", "stripes2"}

const svgDefs = `<defs>
<pattern id="p-stripes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" class="s1"/><line x1="0" y1="0" x2="0" y2="6" class="ink" stroke-width="3"/></pattern>
<pattern id="p-dots" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" class="s2"/><circle cx="3" cy="3" r="1.5" class="inkfill"/></pattern>
<pattern id="p-hatch" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" class="s3"/><path d="M0 0L6 6M6 0L0 6" class="ink" stroke-width="1"/></pattern>
<pattern id="p-stripes2" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" class="s5"/><line x1="0" y1="3" x2="6" y2="3" class="ink" stroke-width="2"/></pattern>
</defs>`

func fill(i int) string {
	switch p := patterns[i%len(patterns)]; p {
	case "solid":
		return `class="s0"`
	case "solid2":
		return `class="s4"`
	default:
		return `fill="url(#p-` + p + `)"`
	}
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// weeklyChart is incidents per week, stacked by severity.
func weeklyChart(rep *bot.InsightsReport, sevs []string) template.HTML {
	const h, top, bar, gap = 180.0, 20.0, 26.0, 14.0
	most := 1
	for _, wk := range rep.Weeks {
		n := 0
		for _, c := range wk.BySeverity {
			n += c
		}
		most = max(most, n)
	}
	width := 40 + float64(len(rep.Weeks))*(bar+gap)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg role="img" aria-labelledby="weekly-t" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" class="chart"><title id="weekly-t">Incidents per week by severity</title>%s`,
		width, h+top+40, width, h+top+40, svgDefs)
	for i, wk := range rep.Weeks {
		x := 40 + float64(i)*(bar+gap)
		y := h + top
		total := 0
		for j, sev := range sevs {
			n := wk.BySeverity[sev]
			if n == 0 {
				continue
			}
			hh := float64(n) / float64(most) * h
			y -= hh
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.0f" height="%.1f" %s class="bar"><title>%s %s: %d</title></rect>`, x, y, bar, hh, fill(j), esc(wk.Start), esc(sev), n)
			total += n
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="num">%d</text>`, x+bar/2, y-4, total)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="lab">%s</text>`, x+bar/2, h+top+14, esc(wk.Start[5:]))
	}
	b.WriteString(`</svg><ul class="legend">`)
	for j, sev := range sevs {
		fmt.Fprintf(&b, `<li><svg width="14" height="14" aria-hidden="true">%s<rect width="14" height="14" %s/></svg> %s</li>`, svgDefs, fill(j), esc(sev))
	}
	b.WriteString(`</ul>`)
	return template.HTML(b.String())
}

// timesChart is the median and 90th percentile of time to acknowledge
// and to resolve, per week, as paired bars with their values (minutes).
func timesChart(rep *bot.InsightsReport) template.HTML {
	var b strings.Builder
	b.WriteString(`<table class="times"><caption>Minutes from declaration, per week (median / 90th percentile)</caption><thead><tr><th scope="col">Week</th><th scope="col">To acknowledge</th><th scope="col">To resolve</th></tr></thead><tbody>`)
	most := 1.0
	for _, wk := range rep.Weeks {
		most = math.Max(most, math.Max(wk.TTAp90, wk.TTRp90))
	}
	cell := func(p50, p90 float64) string {
		if p50 < 0 {
			return "—"
		}
		w50, w90 := 120*p50/most, 120*p90/most
		return fmt.Sprintf(`<svg role="img" aria-label="median %s, 90th percentile %s" width="130" height="18"><rect y="1" width="%.1f" height="7" class="s0"/><rect y="10" width="%.1f" height="7" fill="url(#p-stripes)" class="bar"/>%s</svg> %s / %s`,
			mins(p50), mins(p90), w50, w90, svgDefs, mins(p50), mins(p90))
	}
	for _, wk := range rep.Weeks {
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td>%s</td></tr>`, esc(wk.Start), cell(wk.TTAp50, wk.TTAp90), cell(wk.TTRp50, wk.TTRp90))
	}
	b.WriteString(`</tbody></table>`)
	return template.HTML(b.String())
}

func mins(secs float64) string { return fmt.Sprintf("%.0f", secs/60) }

// pagesChart is pages per person, the part outside working hours
// striped.
func pagesChart(rep *bot.InsightsReport) template.HTML {
	if len(rep.Pages) == 0 {
		return template.HTML(`<p>Nobody was paged in this period.</p>`)
	}
	most := 1
	for _, p := range rep.Pages {
		most = max(most, p.Pages)
	}
	const row = 26.0
	var b strings.Builder
	height := float64(len(rep.Pages))*row + 10
	fmt.Fprintf(&b, `<svg role="img" aria-labelledby="pages-t" width="640" height="%.0f" viewBox="0 0 640 %.0f" class="chart"><title id="pages-t">Pages per person; striped: outside their working hours</title>%s`, height, height, svgDefs)
	for i, p := range rep.Pages {
		y := 5 + float64(i)*row
		in := float64(p.Pages-p.OffHours) / float64(most) * 280
		off := float64(p.OffHours) / float64(most) * 280
		fmt.Fprintf(&b, `<text x="0" y="%.1f" class="lab start">%s</text>`, y+15, esc(p.Name))
		fmt.Fprintf(&b, `<rect x="140" y="%.1f" width="%.1f" height="18" class="s0 bar"/>`, y, in)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="18" fill="url(#p-stripes)" class="bar"/>`, 140+in, y, off)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="num start">%d (%d outside hours)</text>`, 146+in+off, y+14, p.Pages, p.OffHours)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
