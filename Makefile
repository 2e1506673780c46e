# aip — Makefile. `make help` lists the targets. CI runs only make targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
ROOT      := $(CURDIR)
TOOLS_BIN := $(ROOT)/.tools/bin
BIN       := $(ROOT)/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/aip-project/aip/internal/version.Version=$(VERSION)

# Pinned component versions (see ../shared/COMPONENTS.md). Each Go program is
# built from its own tools module under tools/<name>/, into .tools/bin/.
SPIRE_VERSION         := v1.13.3
VAULT_VERSION         := v1.14.1
DEX_VERSION           := v2.45.1
GOLANGCI_LINT_VERSION := v2.15.0

# Point these at your own binaries to skip the builds.
export SPIRE_SERVER   ?= $(TOOLS_BIN)/spire-server
export SPIRE_AGENT    ?= $(TOOLS_BIN)/spire-agent
export SPIRE_OIDC     ?= $(TOOLS_BIN)/oidc-discovery-provider
export VAULT          ?= $(TOOLS_BIN)/vault
export DEX            ?= $(TOOLS_BIN)/dex
export REDIS_SERVER   ?= $(shell command -v redis-server 2>/dev/null || echo redis-server)
export MCP_SERVERS_DIR ?= $(ROOT)/tools/mcp/node_modules
GOLANGCI_LINT ?= $(TOOLS_BIN)/golangci-lint

GO_TEST_FLAGS ?= -count=1 -timeout 15m

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build aip, aip-issuer and aip-enforcer into bin/
	@mkdir -p $(BIN)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

.PHONY: test
test: tools build test-helm ## Run the whole suite (unit, integration with real components, lint), as CI does
	$(GO) test $(GO_TEST_FLAGS) ./...
	@$(MAKE) --no-print-directory lint

.PHONY: test-unit
test-unit: ## Fast tests, no external component (go test -short)
	$(GO) test -short -count=1 ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (pinned) and gofmt
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GOLANGCI_LINT) run ./...

.PHONY: bench
bench: tools ## Run the benchmarks behind the speed targets and write docs/benchmarks.md
	@GO=$(GO) ./scripts/bench.sh

# The soak: not part of `make test`. See docs/soak.md.
SOAK_RATE     ?= 1000
SOAK_DURATION ?= 10m
SOAK_REPORT   ?= $(BIN)/soak-report.md

.PHONY: soak
soak: build redis ## Soak the sidecar: SOAK_RATE calls/s (1000) for SOAK_DURATION (10m), report in SOAK_REPORT; fails on errors or memory growth
	$(GO) build -o $(BIN)/aip-load ./test/load/cmd/aip-load
	$(BIN)/aip-load -rate $(SOAK_RATE) -duration $(SOAK_DURATION) -enforcer $(BIN)/aip-enforcer -report $(SOAK_REPORT)

.PHONY: demo
demo: build ## Run the main job on embedded defaults
	@./scripts/demo.sh

.PHONY: demo-spire
demo-spire: tools build ## Run the production-shaped stack on one machine: SPIRE, Vault transit, Dex, Redis, issuer, two enforcers
	@./scripts/demo-spire.sh

# Container images (Dockerfile): FROM scratch with static binaries, named
# as the Helm chart expects (deploy/helm/aip/values.yaml: <IMAGE_REPO>/aip-issuer
# and /aip-enforcer, tag = the chart's appVersion).
IMAGE_REPO    ?= ghcr.io/aip-project
IMAGE_TAG     ?= $(shell sed -n 's/^appVersion: *"*\([^"]*\)"*$$/\1/p' deploy/helm/aip/Chart.yaml)
IMAGE_CONTEXT ?= $(BIN)/image
CA_CERTS      ?= /etc/ssl/certs/ca-certificates.crt
IMAGES        := aip-issuer aip-enforcer

.PHONY: image-context image image-push
image-context: ## Stage the image build context: static binaries (CGO_ENABLED=0) and CA certificates
	@test -f $(CA_CERTS) || { echo "no CA bundle at $(CA_CERTS): install ca-certificates or set CA_CERTS"; exit 1; }
	@rm -rf $(IMAGE_CONTEXT) && mkdir -p $(IMAGE_CONTEXT)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(IMAGE_CONTEXT)/ ./cmd/aip ./cmd/aip-issuer ./cmd/aip-enforcer
	cp $(CA_CERTS) $(IMAGE_CONTEXT)/ca-certificates.crt

image: image-context ## Build the aip-issuer and aip-enforcer images with docker (IMAGE_REPO, IMAGE_TAG)
	@docker info >/dev/null 2>&1 || { echo "docker cannot reach a daemon (docker info failed): start one, or copy $(IMAGE_CONTEXT) and the Dockerfile to a machine that has one"; exit 1; }
	for t in $(IMAGES); do docker build --target $$t --build-arg VERSION=$(VERSION) -t $(IMAGE_REPO)/$$t:$(IMAGE_TAG) -f Dockerfile $(IMAGE_CONTEXT) || exit 1; done

image-push: image ## Push the images to IMAGE_REPO
	for t in $(IMAGES); do docker push $(IMAGE_REPO)/$$t:$(IMAGE_TAG) || exit 1; done

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 1m)
	@./scripts/fuzz.sh $${FUZZTIME:-1m}

.PHONY: clean
clean: ## Remove built binaries (keeps .tools; see clean-tools)
	rm -rf $(BIN)

.PHONY: clean-tools
clean-tools: ## Remove the built components in .tools/
	rm -rf $(ROOT)/.tools

# ---------------------------------------------------------------------------
# Real components. Each is built only when missing.
.PHONY: tools
tools: redis tools-chromium mcp-servers spire vault dex ## Build or install every real component the tests need

.PHONY: spire vault dex golangci-lint
spire: $(SPIRE_SERVER) ## Build SPIRE server, agent and OIDC discovery provider when missing
vault: $(VAULT) ## Build the Vault dev server when missing
dex: $(DEX) ## Build Dex when missing
golangci-lint: $(GOLANGCI_LINT)

# go_tool builds a program from its tools module: $(1)=module dir, $(2)=output, $(3)=packages
define go_tool
	@mkdir -p $(TOOLS_BIN)
	@echo ">> building $(notdir $(2)) from tools/$(1) (first build takes minutes; progress below)"
	cd tools/$(1) && $(GO) build -v -trimpath -o $(2) $(3) 2>&1 | awk '{n++; if (n % 50 == 0) {printf "   ... %d packages compiled (%s)\n", n, $$0; fflush()}}'; test $${PIPESTATUS[0]} -eq 0
	@test -x $(2) && echo ">> built $(2)"
endef

$(TOOLS_BIN)/spire-server:
	@mkdir -p $(TOOLS_BIN)
	@echo ">> building SPIRE $(SPIRE_VERSION) server, agent and OIDC discovery provider (cold: ~10 min)"
	cd tools/spire && $(GO) build -v -trimpath -o $(TOOLS_BIN)/ github.com/spiffe/spire/cmd/spire-server github.com/spiffe/spire/cmd/spire-agent github.com/spiffe/spire/support/oidc-discovery-provider 2>&1 | awk '{n++; if (n % 50 == 0) {printf "   ... %d packages compiled (%s)\n", n, $$0; fflush()}}'; test $${PIPESTATUS[0]} -eq 0
	@test -x $@ && echo ">> built SPIRE into $(TOOLS_BIN)"

$(TOOLS_BIN)/vault:
	@echo ">> Vault $(VAULT_VERSION) (MPL-2.0) (cold: ~8 min)"
	$(call go_tool,vault,$@,github.com/hashicorp/vault)

$(TOOLS_BIN)/dex:
	@echo ">> Dex $(DEX_VERSION) (cold: ~3 min)"
	$(call go_tool,dex,$@,github.com/dexidp/dex/cmd/dex)

$(TOOLS_BIN)/golangci-lint:
	@echo ">> golangci-lint $(GOLANGCI_LINT_VERSION)"
	$(call go_tool,lint,$@,github.com/golangci/golangci-lint/v2/cmd/golangci-lint)

# The Helm chart deploy/helm/aip. Its test is its own module
# (deploy/helm/go.mod) so Kubernetes dependencies stay out of the product's.
HELM_VERSION := v3.22.0
export HELM ?= $(TOOLS_BIN)/helm

.PHONY: helm test-helm
helm: $(HELM) ## Build helm (pinned) when missing

$(TOOLS_BIN)/helm:
	@echo ">> helm $(HELM_VERSION) (cold: ~5 min)"
	$(call go_tool,helm,$@,helm.sh/helm/v3/cmd/helm)

test-helm: helm build ## Lint and render the chart with several value sets, strict-decode every object, validate the rendered configs
	cd deploy/helm && AIP_BIN=$(BIN) $(GO) test -count=1 ./...

.PHONY: redis
redis: ## Install redis-server from Debian when missing
	@if command -v "$(REDIS_SERVER)" >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo ">> installing redis-server with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	else \
		echo "redis-server is missing: install it (Debian/Ubuntu: sudo apt-get install -y redis-server) or set REDIS_SERVER=/path/to/redis-server"; exit 1; \
	fi

.PHONY: tools-chromium
tools-chromium: ## Install Debian's chromium (headless browser tests of the SSO pages) when missing
	@if [ -x "$${CHROMIUM:-/usr/bin/chromium}" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo ">> installing chromium with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "chromium is missing: install it (Debian: sudo apt-get install -y chromium) or set CHROMIUM=/path/to/chromium"; exit 1; \
	fi

.PHONY: mcp-servers
mcp-servers: $(MCP_SERVERS_DIR)/@modelcontextprotocol/server-filesystem/dist/index.js ## Install the pinned official MCP servers (npm ci)

$(MCP_SERVERS_DIR)/@modelcontextprotocol/server-filesystem/dist/index.js: tools/mcp/package.json tools/mcp/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20+ (Debian: apt-get install -y nodejs npm)"; exit 1; }
	cd tools/mcp && npm ci --no-audit --no-fund
	@touch $@
