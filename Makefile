# labelstudio — `make run` builds and starts it; `make test` runs every test.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.Version=$(VERSION)
BIN     := bin/labelstudio
PROJECT ?= default
NPM      ?= npm
NODE     ?= node
CHROMIUM ?= /usr/bin/chromium
EDITOR   := frontend/dist/static/editor

.PHONY: all build run test vet fmt bench crash-test fuzz clean frontend e2e chromium

all: build

build: frontend
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

run: build
	./$(BIN) start $(PROJECT)

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

test: vet frontend
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed on:"; gofmt -l .; exit 1)
	$(GO) test -race -count=1 ./...
	$(MAKE) e2e
	$(MAKE) fuzz

# The labeling widget: npm installs the version pinned in
# frontend/package-lock.json, then only its bundle files are copied into the
# embed tree and checked against their known SHA-256 (scripts/copy-bundle.sh).
frontend: $(EDITOR)/version.json

frontend/node_modules/.package-lock.json: frontend/package.json frontend/package-lock.json
	cd frontend && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(NPM) ci --ignore-scripts --no-audit --no-fund
	@touch $@

$(EDITOR)/version.json: frontend/node_modules/.package-lock.json frontend/scripts/copy-bundle.sh
	sh frontend/scripts/copy-bundle.sh

# The browser test: the real binary in headless Chromium (Debian's package;
# no browser is ever downloaded by a test tool). Screenshots go to
# test-artifacts/.
e2e: build chromium
	CHROMIUM=$(CHROMIUM) LABELSTUDIO_BIN=$(CURDIR)/$(BIN) $(NODE) --test frontend/e2e/

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "Installing Debian's chromium for the browser test"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-liberation; \
	fi

# Store benchmarks, then the load harness against the real binary with
# 100k and 1M tasks (see bench/README.md).
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./store/...
	$(GO) run ./bench/loadtest -bin $(BIN) -tasks 100000,1000000

# Kill the real binary with SIGKILL 20 times while 4 clients write to it;
# every acknowledged write must survive (bench/crashtest).
crash-test:
	LABELSTUDIO_CRASH_RUNS=20 $(GO) test -count=1 -v -run KillDuringWrites ./bench/crashtest/

# Every fuzz target for FUZZTIME (15s by default, as in CI; FUZZTIME=10m
# for the long runs).
fuzz:
	FUZZTIME=$(or $(FUZZTIME),15s) bash .ci/fuzz

clean:
	rm -rf bin test-artifacts frontend/node_modules $(EDITOR)
