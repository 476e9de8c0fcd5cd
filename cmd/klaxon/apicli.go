package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/web"
)

// apiClient is `klaxon incident …`: a client of a running klaxon's write
// API, for scripts (CI, runbooks).
type apiClient struct {
	url, token string
	json       bool   // print the API's answer as it is
	answer     []byte // the last answer
	out        io.Writer
	http       *http.Client
}

// apiCommands are `klaxon incident declare|update|resolve`.
func (m *Main) apiCommands() *cobra.Command {
	c := &apiClient{out: m.Stdout, http: &http.Client{Timeout: 30 * time.Second}}
	root := &cobra.Command{
		Use:   "incident",
		Short: "Declare, update and resolve incidents through a running klaxon's API (for scripts)",
		Long: "These commands call the JSON API of a running klaxon: --url (or KLAXON_API_URL, default http://127.0.0.1:8080) " +
			"with --token (or KLAXON_API_TOKEN), a token of api.tokens with the write scope. Each request carries an " +
			"Idempotency-Key, and a request that gets no answer is sent again with the same key, so it is made once.",
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			c.url = strings.TrimSuffix(cmp.Or(c.url, m.Getenv("KLAXON_API_URL"), "http://127.0.0.1:8080"), "/")
			c.token = cmp.Or(c.token, m.Getenv("KLAXON_API_TOKEN"))
			if c.token == "" {
				return errors.New("no API token: pass --token or set KLAXON_API_TOKEN (a token of api.tokens with the write scope)")
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&c.url, "url", "", "klaxon's address (default: KLAXON_API_URL, else http://127.0.0.1:8080)")
	root.PersistentFlags().StringVar(&c.token, "token", "", "API token (default: KLAXON_API_TOKEN)")
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print the API's JSON answer")

	var d web.Declaration
	declare := &cobra.Command{
		Use:   "declare <title>",
		Short: "Declare an incident",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d.Title = args[0]
			var inc bot.Incident
			if err := c.post(cmd.Context(), "/api/v1/incidents", d, &inc); err != nil {
				return err
			}
			return c.say("declared %s: %s (%s)", inc.Key(), inc.Title, inc.Severity.Name)
		},
	}
	declare.Flags().StringVar(&d.Severity, "severity", "", "level, name or label (default: the lowest)")
	declare.Flags().StringVar(&d.Service, "service", "", "the affected service")
	declare.Flags().StringVar(&d.Summary, "summary", "", "who is affected and how")
	declare.Flags().StringVar(&d.Commander, "commander", "", "a person's id (default: the role stays open)")
	declare.Flags().StringVar(&d.Type, "type", "", "an incident type's id")
	declare.Flags().StringToStringVar(&d.Fields, "field", nil, "a custom field, id=value (repeatable)")
	declare.Flags().BoolVar(&d.Private, "private", false, "a private incident")

	var public bool
	update := &cobra.Command{
		Use:   "update <INC-n> <text>",
		Short: "Post an update (--public: also on the status page)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := incidentNumber(args[0])
			if err != nil {
				return err
			}
			var inc bot.Incident
			if err := c.post(cmd.Context(), fmt.Sprintf("/api/v1/incidents/%d/updates", n), web.Change{Text: args[1], Public: public}, &inc); err != nil {
				return err
			}
			return c.say("updated %s", inc.Key())
		},
	}
	update.Flags().BoolVar(&public, "public", false, "also show it on the status page")

	var summary string
	resolve := &cobra.Command{
		Use:   "resolve <INC-n>",
		Short: "Resolve an incident",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := incidentNumber(args[0])
			if err != nil {
				return err
			}
			var inc bot.Incident
			if err := c.post(cmd.Context(), fmt.Sprintf("/api/v1/incidents/%d/resolve", n), web.Change{Summary: summary}, &inc); err != nil {
				return err
			}
			return c.say("resolved %s", inc.Key())
		},
	}
	resolve.Flags().StringVar(&summary, "summary", "", "what fixed it")
	root.AddCommand(declare, update, resolve)
	return root
}

// incidentNumber reads INC-42 or 42.
func incidentNumber(s string) (int64, error) {
	if n, ok := bot.ParseIncidentKey(s); ok {
		return n, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	return 0, fmt.Errorf("%q is not an incident: write INC-42 or 42", s)
}

// post sends body to path with a new Idempotency-Key, sending it again
// (same key) while klaxon cannot be reached or answers 409 "still
// running", and decodes the answer into out. A problem answer becomes an
// error with its detail.
func (c *apiClient) post(ctx context.Context, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	key := uuid.NewString()
	var last error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		req, err := http.NewRequestWithContext(ctx, "POST", c.url+path, bytes.NewReader(raw))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Idempotency-Key", key)
		resp, err := c.http.Do(req)
		if err != nil {
			last = fmt.Errorf("klaxon at %s did not answer: %w", c.url, err)
			continue
		}
		answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		if resp.StatusCode == http.StatusConflict && resp.Header.Get("Retry-After") != "" {
			last = errors.New("klaxon is still making the first attempt")
			continue
		}
		if resp.StatusCode >= 300 {
			var p web.Problem
			if json.Unmarshal(answer, &p) == nil && p.Detail != "" {
				if p.Field != "" {
					return fmt.Errorf("%s (%s): %s", http.StatusText(resp.StatusCode), p.Field, p.Detail)
				}
				return fmt.Errorf("%s: %s", http.StatusText(resp.StatusCode), p.Detail)
			}
			return fmt.Errorf("klaxon answered %s", resp.Status)
		}
		c.answer = answer
		return json.Unmarshal(answer, out)
	}
	return last
}

// say prints what happened, or with --json the API's answer.
func (c *apiClient) say(format string, args ...any) error {
	if c.json {
		_, err := c.out.Write(c.answer)
		return err
	}
	_, err := fmt.Fprintf(c.out, format+"\n", args...)
	return err
}

// reloadCommand is `klaxon reload`: the running klaxon re-reads its
// configuration (POST /-/reload with an admin token), as SIGHUP makes it.
func (m *Main) reloadCommand(load func() (*Config, string, error)) *cobra.Command {
	var url, token string
	cmd := &cobra.Command{
		Use:   "reload",
		Short: "Make the running klaxon re-read its configuration (as SIGHUP does), and say what changed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := load()
			if err != nil {
				return fmt.Errorf("the configuration on disk is wrong, so the running klaxon keeps its own: %w", err)
			}
			if url == "" {
				url = cmp.Or(m.Getenv("KLAXON_API_URL"), "http://"+loopbackOf(cfg.HTTP.Listen))
			}
			token = cmp.Or(token, m.Getenv("KLAXON_API_TOKEN"))
			for _, t := range cfg.apiTokens() {
				if token == "" && t.Scope == web.ScopeAdmin {
					token = t.Secret
				}
			}
			if token == "" {
				return errors.New("no admin token: configure api.admin_token (or an api.tokens entry with scope admin), or pass --token")
			}
			req, err := http.NewRequestWithContext(cmd.Context(), "POST", strings.TrimSuffix(url, "/")+"/-/reload", nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				return fmt.Errorf("klaxon at %s did not answer: %w", url, err)
			}
			defer resp.Body.Close()
			var body struct {
				Restart []string `json:"restart"`
				Notes   []string `json:"notes"`
				web.Problem
			}
			if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
				return fmt.Errorf("klaxon answered %s", resp.Status)
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", http.StatusText(resp.StatusCode), body.Detail)
			}
			fmt.Fprintln(m.Stdout, "reloaded")
			for _, k := range body.Restart {
				fmt.Fprintf(m.Stdout, "changed, applies at the next restart: %s\n", k)
			}
			for _, n := range body.Notes {
				fmt.Fprintf(m.Stdout, "note: %s\n", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "klaxon's address (default: KLAXON_API_URL, else http.listen on 127.0.0.1)")
	cmd.Flags().StringVar(&token, "token", "", "an admin API token (default: KLAXON_API_TOKEN, else the configuration's admin token)")
	return cmd
}

// loopbackOf is addr with a wildcard host made 127.0.0.1.
func loopbackOf(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		return "127.0.0.1:" + port
	}
	return net.JoinHostPort(host, port)
}
