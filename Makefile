# teeup: see README.md. Every target works on a fresh clone with Go 1.26.
GO        ?= go
FUZZTIME  ?= 10s
BENCHTIME ?= 1s
STATICCHECK_VERSION := v0.8.2
DEMO_DIR  ?= demo-out

.PHONY: build test bench bench-instructions fuzz lint demo sweep soak clean

build:
	$(GO) build -o bin/teeup ./cmd/teeup

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...

# Each fuzz target runs for FUZZTIME; go test -fuzz takes one target at a time.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParseEnvelope$$' -fuzztime=$(FUZZTIME) ./secure/suit/
	$(GO) test -run='^$$' -fuzz='^FuzzParseEncryptionInfo$$' -fuzztime=$(FUZZTIME) ./secure/suit/
	$(GO) test -run='^$$' -fuzz='^FuzzParseReport$$' -fuzztime=$(FUZZTIME) ./secure/suit/
	$(GO) test -run='^$$' -fuzz='^FuzzProcess$$' -fuzztime=$(FUZZTIME) ./secure/suit/dryrun/
	$(GO) test -run='^$$' -fuzz='^FuzzReadFrame$$' -fuzztime=$(FUZZTIME) ./ipc/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeRequest$$' -fuzztime=$(FUZZTIME) ./ipc/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeResponse$$' -fuzztime=$(FUZZTIME) ./ipc/
	$(GO) test -run='^$$' -fuzz='^FuzzServe$$' -fuzztime=$(FUZZTIME) ./ipc/
	$(GO) test -run='^$$' -fuzz='^FuzzSecureDispatcher$$' -fuzztime=$(FUZZTIME) ./secure/service/
	$(GO) test -run='^$$' -fuzz='^FuzzReadBank$$' -fuzztime=$(FUZZTIME) ./secure/storage/
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeState$$' -fuzztime=$(FUZZTIME) ./secure/storage/

# Every scenario, every cut mode, every flash operation (make test runs a sample).
sweep: build
	bin/teeup device sweep --scenario all

# 200 updates of a running two-process device, each cut by a power cut at a
# random moment (make test runs 12).
soak:
	TEEUP_SOAK_UPDATES=200 $(GO) test -count=1 -run '^TestDeviceRunPowerCuts$$' -v ./cmd/teeup/

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

demo: build
	@bash docs/demo.sh bin/teeup $(DEMO_DIR)

clean:
	rm -rf bin $(DEMO_DIR)

# Instructions per operation under callgrind: the overhead ratio without the
# noise of a shared machine (needs valgrind).
bench-instructions:
	bash docs/bench-instructions.sh 100
