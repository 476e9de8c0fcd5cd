package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// Execute runs the command line args.
func (m *Main) Execute(ctx context.Context, args []string) error {
	root := m.command()
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	return root.ExecuteContext(ctx)
}

func (m *Main) command() *cobra.Command {
	var configPath string
	load := func() (*Config, string, error) { return LoadConfig(configPath, m.Getenv) }

	root := &cobra.Command{
		Use:           "klaxon",
		Short:         "Incident response in the chat you already use",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&configPath, "config", "c", "", "config file (default: ./config.yaml if present, else built-in defaults)")

	run := &cobra.Command{
		Use:   "run",
		Short: "Run the bot (console mode when no Slack or Discord token is configured)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, source, err := load()
			if err != nil {
				return err
			}
			m.reread = load
			return m.Run(cmd.Context(), cfg, source)
		},
	}

	check := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, source, err := load()
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "config OK (%s): mode %s, store %s, %d people, %d services, %d severities\n",
				source, cfg.Mode(), cfg.storeName(), len(cfg.People), len(cfg.Services), len(cfg.Incidents.Severities))
			return nil
		},
	}
	configCmd := &cobra.Command{Use: "config", Short: "Work with the configuration"}
	configCmd.AddCommand(check)

	backup := &cobra.Command{
		Use:   "backup <file>",
		Short: "Write a consistent copy of the database (while klaxon is stopped)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return m.withStore(load, func(b store.Backend) error {
				s, ok := b.(*bolt.Store)
				if !ok {
					_, err := b.Backup(nil) // says how to back up this database
					return err
				}
				n, err := s.BackupFile(args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(m.Stdout, "backed up %s to %s (%d bytes)\n", s.Path(), args[0], n)
				return nil
			})
		},
	}

	var exportPath string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write every incident and its timeline as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return m.withStore(load, func(s store.Backend) error {
				out := m.Stdout
				if exportPath != "" && exportPath != "-" {
					// Private incidents' chat is in it: owner only, as the
					// database and its backups are.
					f, err := os.OpenFile(exportPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
					if err != nil {
						return err
					}
					defer f.Close()
					if err := f.Chmod(0o600); err != nil { // an existing file keeps its mode otherwise
						return err
					}
					out = f
				}
				incs, evs, err := s.Export(out)
				if err != nil {
					return err
				}
				fmt.Fprintf(m.Stderr, "exported %d incidents and %d timeline events\n", incs, evs)
				return nil
			})
		},
	}
	export.Flags().StringVarP(&exportPath, "output", "o", "-", "file to write (- for standard output)")

	versionCmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(m.Stdout, "klaxon %s (%s, schema v%d)\n", version, runtime.Version(), bolt.SchemaVersion())
		},
	}

	selfCheck := &cobra.Command{
		Use:   "check",
		Short: "Check the configuration, connect to Slack and Discord, and report missing scopes, permissions and intents",
		Long: "check validates the configuration, asks each configured chat platform what it grants klaxon, names what is\n" +
			"missing with what stops working and how to fix it, and exits non-zero if anything is.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, source, err := load()
			if err != nil {
				return err
			}
			return m.Check(cmd.Context(), cfg, source)
		},
	}

	var migrateTo string
	migrateCmd := &cobra.Command{
		Use:   "migrate --to postgres|bbolt",
		Short: "Copy the bbolt file (store.path) into an empty PostgreSQL database (store.postgres.dsn), or back (while klaxon is stopped)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := load()
			if err != nil {
				return err
			}
			return m.migrate(cmd.Context(), cfg, migrateTo)
		},
	}
	migrateCmd.Flags().StringVar(&migrateTo, "to", "", "postgres (from store.path) or bbolt (to store.path, from store.postgres.dsn)")

	root.AddCommand(run, selfCheck, configCmd, backup, export, migrateCmd, versionCmd, m.apiCommands(), m.reloadCommand(load))
	return root
}

// Check is `klaxon check`: the configuration, then each chat platform's
// own check, each tracker's and each notification provider's.
func (m *Main) Check(ctx context.Context, cfg *Config, source string) error {
	fmt.Fprintf(m.Stdout, "config OK (%s): mode %s\n", source, cfg.Mode())
	for _, w := range configWarnings(cfg, source) {
		fmt.Fprintf(m.Stdout, "warning: %s\n", w)
	}
	platforms, err := cfg.platforms(m.Logger(cfg), bot.SystemClock{}, cfg.commandsConfig())
	if err != nil {
		return err
	}
	if len(platforms) == 0 {
		fmt.Fprintln(m.Stdout, "no Slack or Discord token is configured (console mode): no platform to check")
	}
	problems := m.checkTrackers(ctx, cfg) + m.checkNotifications(ctx, cfg)
	for _, p := range platforms {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		missing, err := p.Check(ctx)
		cancel()
		switch {
		case err != nil:
			problems++
			fmt.Fprintf(m.Stdout, "%s: ✗ %s\n", p.Platform(), bot.ErrorMessage(err))
		case len(missing) == 0:
			fmt.Fprintf(m.Stdout, "%s: ✓ everything klaxon needs is granted\n", p.Platform())
		default:
			problems += len(missing)
			for _, line := range missing {
				fmt.Fprintf(m.Stdout, "%s: ✗ %s\n", p.Platform(), line)
			}
		}
	}
	if problems > 0 {
		return fmt.Errorf("check: %d problem(s) found", problems)
	}
	return nil
}

// checkTrackers asks each tracker whether its credentials and target
// work, and returns how many do not.
func (m *Main) checkTrackers(ctx context.Context, cfg *Config) int {
	trackers, err := cfg.trackers(bot.OutboundClient(20 * time.Second))
	if err != nil {
		fmt.Fprintf(m.Stdout, "trackers: ✗ %v\n", err)
		return 1
	}
	problems := 0
	for _, id := range slices.Sorted(maps.Keys(trackers)) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := trackers[id].Check(ctx)
		cancel()
		if err != nil {
			problems++
			fmt.Fprintf(m.Stdout, "tracker %s: ✗ %s\n", id, bot.ErrorMessage(err))
			continue
		}
		fmt.Fprintf(m.Stdout, "tracker %s: ✓ klaxon can file tickets there\n", id)
	}
	return problems
}

// withStore opens the configured store for an offline command.
func (m *Main) withStore(load func() (*Config, string, error), fn func(store.Backend) error) error {
	cfg, _, err := load()
	if err != nil {
		return err
	}
	s, err := openStore(context.Background(), cfg, true)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}
