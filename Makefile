# teeup: see README.md. Every target works on a fresh clone with Go 1.26.
GO        ?= go
FUZZTIME  ?= 10s
BENCHTIME ?= 1s
STATICCHECK_VERSION := v0.8.2
GOLANGCI_LINT_VERSION := v2.15.0
GOVULNCHECK_VERSION := v1.9.0
# The Go vulnerability database as a Go module (a snapshot; bump it to
# check against newer reports). make vuln indexes it locally, so that it
# needs nothing but the module proxy; VULNDB=https://vuln.go.dev uses the
# live database instead.
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB ?=
DEMO_DIR  ?= demo-out

.PHONY: build test test-full bench bench-teep bench-instructions fuzz lint vuln demo demo-device sweep soak clean

build:
	$(GO) build -buildvcs=auto -o bin/teeup ./cmd/teeup

# The race-enabled suite, with -short: TestSweepSample cuts the power at
# every 13th flash operation of each sweep scenario instead of every 5th.
# test-full runs everything at full length; make sweep cuts at every one.
# The PostgreSQL store's tests (tam/store/postgres) skip without a server:
#   eval "$$(bash docs/postgres-test.sh start)"; make test; bash docs/postgres-test.sh stop
# (.ci/run does this, and sets TEEUP_REQUIRE_POSTGRES=1 so they fail rather than skip.)
test:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 -short ./...

test-full:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...

# Issues 14's and 15's figure alone: TEEP sessions per second from 100 and
# 1,000 concurrent in-process Agents, p50/p99, and the crypto one session
# needs, on SQLite and (when TEEUP_TEST_POSTGRES is set, see make test) on
# PostgreSQL; one op is a round of one session per Agent (make bench runs
# it with the rest).
bench-teep:
	$(GO) test -run='^$$' -bench='^BenchmarkTEEPSession$$' -benchmem -benchtime=$(BENCHTIME) ./tam/teepsrv/

# Every Fuzz target of the tree, each for FUZZTIME: the packages are those
# whose tests declare a Fuzz function, the targets what go test -list finds
# in them, so a new target runs without being listed here. go test -fuzz
# takes one target of one package at a time. Go 1.26's fuzz coordinator
# can fail a target with a bare "context deadline exceeded" when FUZZTIME
# ends while a worker is mid-input (golang/go#75804, fixed in Go 1.27): no
# input failed and none is written, so that alone is reported and passed;
# any other failure, or a failing input written, stops the run.
fuzz:
	@set -e; out=$$(mktemp); trap 'rm -f $$out' EXIT; \
	for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$target ($$pkg)"; \
	    if $(GO) test -run='^$$' -fuzz="^$$target\$$" -fuzztime=$(FUZZTIME) $$pkg >$$out 2>&1; then cat $$out; \
	    elif grep -qx '    context deadline exceeded' $$out && ! grep -q 'Failing input written' $$out; then \
	      cat $$out; echo "== $$target: the coordinator's end-of-fuzztime race (golang/go#75804), no failing input: passed"; \
	    else cat $$out; exit 1; fi; \
	  done; \
	done

# Every scenario, every cut mode, every flash operation (make test runs a sample).
sweep: build
	bin/teeup device sweep --scenario all

# 200 updates of a running two-process device, each cut by a power cut at a
# random moment (make test runs 12).
soak:
	TEEUP_SOAK_UPDATES=200 $(GO) test -count=1 -run '^TestDeviceRunPowerCuts$$' -v ./cmd/teeup/

lint:
	$(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) run ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# govulncheck with the toolchain go.mod pins (GOTOOLCHAIN=auto: a machine
# set to its local Go would otherwise check the standard library it has,
# not the patched one the module asks for).
vuln:
	@set -e; db="$(VULNDB)"; \
	if [ -z "$$db" ]; then \
		GOTOOLCHAIN=auto $(GO) mod download golang.org/x/vulndb@$(VULNDB_VERSION); \
		src=$$($(GO) env GOMODCACHE)/golang.org/x/vulndb@$(VULNDB_VERSION); \
		dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
		GOTOOLCHAIN=auto $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$src/data/osv" -out "$$dir/db"; \
		db="file://$$dir/db"; \
	fi; \
	GOTOOLCHAIN=auto $(GO) run golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION) -db "$$db" ./...

# Issue 14's story: a TAM, its authors and operator, one two-process
# device that attests and takes two TAs, a personalization and a firmware
# pair through TEEP (docs/demo.sh; TestDemo runs it).
demo: build
	@bash docs/demo.sh bin/teeup $(DEMO_DIR)

# The device without a TAM: a manifest signed, verified and processed on
# the dry-run device, then a firmware update and a personalized TA pushed
# through the normal world of a two-process device, and the refusals.
demo-device: build
	@bash docs/demo-device.sh bin/teeup $(DEMO_DIR)-device

clean:
	rm -rf bin $(DEMO_DIR) $(DEMO_DIR)-device

# Instructions per operation under callgrind: the overhead ratio without the
# noise of a shared machine (needs valgrind).
bench-instructions:
	bash docs/bench-instructions.sh 100
