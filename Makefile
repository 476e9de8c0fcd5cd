# klaxon — `make help` lists the targets.

VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 60s
BENCHTIME   ?= 3s
# Skip the race detector's one-second pause at exit in every test binary.
export GORACE := atexit_sleep_ms=0

.PHONY: help build run test test-ics integration chaos soak lint bench goals fuzz clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build bin/klaxon
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/klaxon ./cmd/klaxon

run: ## run klaxon (console mode unless Slack/Discord tokens are configured)
	go run -ldflags '$(LDFLAGS)' ./cmd/klaxon run

test: ## run every test with the race detector (installs PostgreSQL for the store tests if missing)
	@scripts/test-deps.sh
	go test -race -count=1 ./...

test-ics: ## parse the calendar feed with python3-icalendar (apt-get install python3-icalendar)
	go test -count=1 -tags icalendar -run ICalendar ./commands/oncall

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	go vet -tags 'integration chaos soak icalendar' ./...
	go run $(STATICCHECK) ./...

bench: ## run every benchmark and print one table (durable writes: numbers depend on the disk)
	go test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./... | tee bench.out
	go run ./cmd/benchtable < bench.out

ROUNDS ?= 3
goals: ## measure the performance goals ROUNDS times (default 3), one after another, and say which each round met (raw output in goals.out; the soak is make soak)
	bash scripts/goals.sh $(ROUNDS)

MAILPIT := github.com/axllent/mailpit@v1.33.1
AXE := axe-core@4.10.3
integration: ## real Alertmanager → alert intake; status page and web console in headless Chromium, checked by axe-core (screenshots in artifacts/); email and status page subscriptions through a real SMTP server (Mailpit)
	GOBIN=$(CURDIR)/bin go install $(MAILPIT)
	test -f bin/package/axe.min.js || (cd bin && npm pack $(AXE) --silent && tar -xzf $(subst @,-,$(AXE)).tgz package/axe.min.js)
	PATH="$(CURDIR)/bin:$$PATH" go test -tags integration -race -count=1 -run '^(TestRealAlertmanager|TestStatusPageInHeadlessChromium|TestEmailThroughMailpit|TestEmailKeepsSessionsOpen|TestWebConsoleInHeadlessChromium|TestStatusSubscriptionsThroughMailpit)$$' ./cmd/klaxon ./bot/notify

CHAOS_ROUNDS ?= 50
CHAOS_TESTS ?= TestCrashLoop|TestDeclarationCrashLoop|TestNotifyCrashLoop|TestDisconnects|TestDiscordGatewayFaults|TestStorm|TestChatDownForTwoMinutes|TestFailover
CHAOS_FUZZTIME ?= 60s
chaos: ## crash loops (kill -9 the real binary CHAOS_ROUNDS times mid-incident and mid-declaration, default 50), socket drops, a rate-limit storm, Slack down 2 min, then every fuzz target for CHAOS_FUZZTIME
	CHAOS_ROUNDS=$(CHAOS_ROUNDS) go test -v -tags chaos -count=1 -timeout 45m -run '^($(CHAOS_TESTS))$$' ./cmd/klaxon
	$(MAKE) fuzz FUZZTIME=$(CHAOS_FUZZTIME)

SOAK_DURATION ?= 1h
soak: ## (not in CI) the real binary for SOAK_DURATION (default 1h) at 10 alerts/s, chat in every incident channel, pages acknowledged; memory, goroutines, files and store size each minute into artifacts/soak.csv and artifacts/soak.svg
	SOAK_DURATION=$(SOAK_DURATION) go test -tags soak -count=1 -v -timeout 3h -run '^TestSoak$$' ./cmd/klaxon

# Every parser of outside input: package:target.
FUZZ_TARGETS := bot:FuzzTokenize bot:FuzzParsers commands:FuzzCommandArguments commands/oncall:FuzzOnCallArguments bot/web:FuzzAlertDecoders \
	bot/slack:FuzzDecodeInteraction cmd/klaxon:FuzzConfig
fuzz: ## run every fuzz target (commands, arguments, alerts, Slack payloads, config) for FUZZTIME each (default 60s)
	bash scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

clean: ## remove build output (not ./data)
	rm -rf bin
