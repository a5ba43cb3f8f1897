# ordercare: the two set-up commands are `make run` and `make test`.
# Everything a target needs (DynamoDB Local, npm tools) is installed by the
# target itself into .tools/ (git-ignored).

GO        ?= go
DATA      ?= .care
ADDR      ?= 127.0.0.1:8080
SFN_ADDR  ?= 127.0.0.1:8083
CLOCK     ?= virtual
# Every Lambda function is a directory functions/<name>/ (functions/registry.go lists them).
FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
LAMBDA_BUILD = GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w'

# The ASL conformance cases recorded on AWS live in the workplace's shared
# folder beside the project; a clone elsewhere on this machine finds them in
# /work/shared. Set ASL_CONFORMANCE_DIR to run another case set.
ASL_CONFORMANCE_DIR ?= $(abspath $(firstword $(wildcard ../shared/conformance/asl/cases /work/shared/conformance/asl/cases)))
ifneq ($(ASL_CONFORMANCE_DIR),)
export ASL_CONFORMANCE_DIR
endif

.PHONY: run test test-go test-dynamo test-asl lint build-functions bench bench-parked bench-stalls cost cost-sms fuzz chaos clean browser screenshots

## run: build and start the local runtime with the demo shop
run:
	$(GO) build -o bin/care ./cmd/care
	./bin/care serve --data $(DATA) --addr $(ADDR) --sfn-addr $(SFN_ADDR) --clock $(CLOCK) --demo

## test: everything CI checks (installs DynamoDB Local and npm tools on first use)
test: lint test-go test-dynamo test-asl build-functions
	@echo "make test: all passed"

lint:
	@if command -v cfn-lint >/dev/null; then cfn-lint template.yaml; else echo "cfn-lint not on PATH: template.yaml not linted"; fi
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# The console's browser tests need Debian's chromium and a CJK font.
test-go: browser

## browser: install chromium and a CJK font for the console's browser tests (apt-get, once)
browser:
	@scripts/chromium.sh

## screenshots: rewrite the README's console screenshots (docs/console-*.png) with the browser test
screenshots: browser
	$(GO) test -count=1 -run TestBrowser ./internal/console/ -args -screenshots $(CURDIR)/docs

test-go:
	@echo "ASL conformance cases: $(or $(ASL_CONFORMANCE_DIR),not found (those tests skip and say so))"
	$(GO) test -race -count=1 ./...

# The DynamoDB store runs the same conformance suite against DynamoDB Local.
test-dynamo:
	@url=$$(scripts/dynamodb-local.sh start) || exit 1; \
	DYNAMODB_ENDPOINT=$$url $(GO) test -race -count=1 ./infra/dynamostore/...; rc=$$?; \
	scripts/dynamodb-local.sh stop; exit $$rc

# Every state machine in workflows/ is validated by asl-validator (npm) and by
# the engine (go test ./workflows). Then the ASL conformance cases run again,
# this time through the Step Functions HTTP API (test-go ran them on the
# engine's Go API), and their table is printed.
test-asl:
	scripts/asl-validate.sh
	@mkdir -p .tools; ASL_CONFORMANCE_VIA=api $(GO) test -count=1 -run 'TestConformance$$' -v ./infra/sfnlocal/conformance/ > .tools/conformance.log 2>&1; \
	rc=$$?; sed -n '/^area /,/^conformance:/p' .tools/conformance.log; \
	grep -q '^conformance:' .tools/conformance.log || grep -m1 -i 'skip' .tools/conformance.log; exit $$rc

build-functions:
	@for f in $(FUNCTIONS); do \
	  echo "build functions/$$f (linux/arm64)"; \
	  $(LAMBDA_BUILD) -o bin/functions/$$f/bootstrap ./functions/$$f || exit 1; \
	done
	@ls -l bin/functions/*/bootstrap | awk '{printf "  %-36s %5.1f MB\n", $$NF, $$5/1048576}'

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR
# set: one target per function of template.yaml (functions/registry_test.go
# checks that each exists and builds the function's directory).
.PHONY: build-ApiFunction build-IngestFunction build-RouterFunction build-StepFunction
build-ApiFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/api
build-IngestFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/ingest
build-RouterFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/router
build-StepFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/step
.PHONY: build-ReceiptsFunction
build-ReceiptsFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/receipts

## bench: print throughput and latency figures (README, Performance)
bench:
	$(GO) test -run '^$$' -bench 'WebhookIngest|^BenchmarkIngest$$' -benchtime 20000x ./infra/localruntime/ ./infra/sqlitestore/
	$(GO) test -run '^$$' -bench ListOrders -benchtime 20x ./infra/sqlitestore/
	$(GO) test -run '^$$' -bench CareSurge -benchtime 2000x ./infra/localruntime/
	$(GO) test -run '^$$' -bench ShortExecutions -benchtime 100000x ./infra/sfnlocal/
	$(GO) test -run '^$$' -bench ShippingSurge -benchtime 2000x ./infra/localruntime/
	N=50000 scripts/sfn-bench.sh

## cost: state transitions per workflow and the AWS cost per 1,000 orders of a stated mix (README, State transitions per order)
cost:
	@mkdir -p .tools; url=$$(scripts/dynamodb-local.sh start) || exit 1; \
	DYNAMODB_ENDPOINT=$$url $(GO) test -run '^$$' -bench CostPer1000Orders -benchtime 1x ./infra/localruntime/ > .tools/cost.log 2>&1; \
	rc=$$?; scripts/dynamodb-local.sh stop; sed '/^goos:/,$$d' .tools/cost.log; exit $$rc

## cost-sms: SMS segments and the AWS cost per 1,000 orders with SMS, and what ledger dedupe and quiet hours save (README, What SMS costs)
cost-sms:
	@mkdir -p .tools; $(GO) test -run '^$$' -bench SMSPer1000Orders -benchtime 1x ./infra/localruntime/ > .tools/cost-sms.log 2>&1; \
	rc=$$?; sed '/^goos:/,$$d' .tools/cost-sms.log; exit $$rc

## bench-parked: one million executions parked on timers, 10,000 due at once; a Map over 10,000 items
bench-parked:
	scripts/sfn-bench-parked.sh

## bench-stalls: 100,000 parcels watched for stalls on the local runtime, 10,000 due at once
bench-stalls:
	$(GO) test -run '^$$' -bench StallTimers -benchtime 100000x -timeout 60m ./infra/localruntime/

## chaos: the long crash-injection run (kill -9 / SIGTERM of a real `care serve`
## during ingestion, routing and clock advances; see chaos/doc.go). `make test`
## runs the short one (40 orders, 5 kills) inside `go test ./...`.
CHAOS_ORDERS ?= 350
CHAOS_KILLS  ?= 30
CHAOS_SEED   ?=
chaos:
	$(GO) build -o bin/care ./cmd/care
	@mkdir -p .tools
	CHAOS_BIN=$(abspath bin/care) CHAOS_ORDERS=$(CHAOS_ORDERS) CHAOS_KILLS=$(CHAOS_KILLS) CHAOS_SEED=$(CHAOS_SEED) \
	  $(GO) test -count=1 -timeout 30m -v -run '^TestChaos$$' ./chaos/ > .tools/chaos.log 2>&1; rc=$$?; \
	  grep -E '^(chaos|---|FAIL|ok)|chaos_test.go|^ +C[0-9]' .tools/chaos.log; exit $$rc

## fuzz: run each fuzz target briefly (webhooks; storedjson against encoding/json)
fuzz:
	@for p in ./internal/source/ ./internal/storedjson/; do \
	  for t in $$($(GO) test -list 'Fuzz.*' $$p | grep ^Fuzz); do \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime 20s $$p || exit 1; done; done

clean:
	rm -rf bin .tools
