# labelstudio — `make run` builds and starts it; `make test` runs every test.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.Version=$(VERSION)
BIN     := bin/labelstudio
PROJECT ?= default

.PHONY: all build run test vet fmt bench crash-test clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

run: build
	./$(BIN) start $(PROJECT)

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .

test: vet
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed on:"; gofmt -l .; exit 1)
	$(GO) test -race -count=1 ./...

# Store benchmarks, then the load harness against the real binary with
# 100k and 1M tasks (see bench/README.md).
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./store/...
	$(GO) run ./bench/loadtest -bin $(BIN) -tasks 100000,1000000

# Kill the real binary with SIGKILL 20 times while 4 clients write to it;
# every acknowledged write must survive (bench/crashtest).
crash-test:
	LABELSTUDIO_CRASH_RUNS=20 $(GO) test -count=1 -v -run KillDuringWrites ./bench/crashtest/

clean:
	rm -rf bin
