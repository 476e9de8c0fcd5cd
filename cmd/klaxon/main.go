// Command klaxon is an incident bot for Slack, Discord and the terminal.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // schedules need IANA zones even where the system has none

	"github.com/mattn/go-isatty"

	"github.com/klaxon-bot/klaxon/bot"
)

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		Getenv:      os.Getenv,
		Interactive: isatty.IsTerminal(os.Stdin.Fd()) && isatty.IsTerminal(os.Stdout.Fd()),
		LogIsTTY:    isatty.IsTerminal(os.Stderr.Fd()),
	}
	if err := m.Execute(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "klaxon:", err)
		os.Exit(1)
	}
}

// Main is the klaxon program with its surroundings made explicit, so tests
// run it end to end with their own input, output and environment.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Interactive    bool // stdin and stdout are a terminal
	LogIsTTY       bool // stderr is a terminal: pretty logs under log.format auto

	// For tests: the clock (default: the system's) and how often timers are
	// checked (default: every second).
	Clock     bot.Clock
	TickEvery time.Duration

	// reread reads the configuration again as `run` read it, for reloads.
	reread func() (*Config, string, error)
}
