# drctl — the two commands a newcomer needs are `make demo` and `make test`.
SWIFT ?= swift
LAB_DIR ?= .lab
DRCTL = .build/debug/drctl
# The lab, its faults, campaigns and lab drills (never shipped: release installs drctl only).
DRCTL_LAB = .build/debug/drctl-lab
PACKAGES = $(shell grep -v '^\#' debian-packages.txt)

PREFIX ?= /usr/local
DESTDIR ?=
SYSTEMD_DIR ?= /etc/systemd/system
# release (what install and release ship) or debug (what the test suite installs).
CONFIGURATION ?= release
# How a release binary is built (packaging/release-build-flags, also read by make bench's
# footprint): Swift's runtime linked in, relative relocations packed by lld — 2 MiB less
# resident in every drctl process (docs/measurements.md, Footprint). Packed relocations
# need glibc 2.36 or later (Debian 12).
RELEASE_FLAGS = $(shell cat packaging/release-build-flags)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Evaluated once: the tarball and the message name the same commit.
VERSION := $(VERSION)
# The man page's date: the last commit's, so that an install of the same commit is byte-identical.
MAN_DATE ?= $(shell git log -1 --format=%cs 2>/dev/null || date +%F)

.PHONY: setup build check cli-docs format test unit flake-hunt demo bench soak chaos chaos-long lab-up lab-down clean install release

# Installs the missing Debian packages only; silent when everything is present.
# Works as root or through sudo.
setup:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	  echo "installing:$$missing"; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@# The local S3 the object-storage tests run (moto behind a botocore signature check),
	@# and boto3 to read back what drctl wrote: from PyPI, once.
	@python3 -c 'import moto, boto3, flask_cors, werkzeug' 2>/dev/null || { \
	  echo "installing from PyPI: moto[server] boto3"; \
	  python3 -m pip install --quiet 'moto[server]>=5.1' boto3 2>/dev/null || \
	  python3 -m pip install --quiet --break-system-packages 'moto[server]>=5.1' boto3; }

build: setup
	$(SWIFT) build

# `make check` (part of `make test`, so CI) fails on: any difference from the house style
# (.swift-format; `make format` applies it), a Package.swift edge that disagrees with the
# imports (scripts/check-module-edges.py), or a stale docs/cli.md (`make cli-docs`).
check:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	$(SWIFT) package dump-package | python3 scripts/check-module-edges.py
	$(SWIFT) build --product drctl >/dev/null
	$(SWIFT) build --product drctl-lab >/dev/null
	$(DRCTL) --experimental-dump-help | python3 scripts/cli-reference.py | diff -u docs/cli.md - >/dev/null \
	  || { echo "docs/cli.md is stale: run make cli-docs and commit it"; exit 1; }
	$(DRCTL_LAB) --experimental-dump-help | python3 scripts/cli-reference.py | diff -u docs/cli-lab.md - >/dev/null \
	  || { echo "docs/cli-lab.md is stale: run make cli-docs and commit it"; exit 1; }

# docs/cli.md and docs/cli-lab.md, the command references, generated from the argument parser.
cli-docs:
	$(SWIFT) build --product drctl >/dev/null
	$(SWIFT) build --product drctl-lab >/dev/null
	$(DRCTL) --experimental-dump-help | python3 scripts/cli-reference.py >docs/cli.md
	$(DRCTL_LAB) --experimental-dump-help | python3 scripts/cli-reference.py >docs/cli-lab.md

format:
	$(SWIFT) format format --in-place --recursive Sources Tests Package.swift

# What CI runs: the style check, unit tests (no servers, seconds) and integration tests
# (real PostgreSQL, etcd, PowerDNS started through the lab code in unique /tmp directories,
# tagged lab, root and chaos), then the ten slowest suites. Log: .build/test.log.
test: setup check
	$(SWIFT) build --build-tests
	$(SWIFT) build --product generate-manual
	bash scripts/run-tests.sh

# The fast signal: every test that starts no server (under two minutes after a build).
unit:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip IntegrationTests

# One suite (any `swift test --filter` expression) N times, with pass/fail counts and
# the artifacts each failed run kept: make flake-hunt SUITE=RegionCutsTests N=10
SUITE ?=
N ?= 5
flake-hunt: build
	@test -n "$(SUITE)" || { echo "usage: make flake-hunt SUITE=<swift test filter> [N=5]"; exit 2; }
	$(SWIFT) build --build-tests
	bash scripts/flake-hunt.sh '$(SUITE)' $(N)

demo: build
	@if [ -f $(LAB_DIR)/lab.json ]; then $(DRCTL_LAB) down --dir $(LAB_DIR); fi
	$(DRCTL_LAB) up --dir $(LAB_DIR)
	@echo
	$(DRCTL) config check --config $(LAB_DIR)/drctl.yaml
	@echo
	$(DRCTL) status --config $(LAB_DIR)/drctl.yaml
	@echo
	@echo "== DR drill: the primary's region is cut off under a write load (drills/region-outage.yaml)"
	$(DRCTL_LAB) drill run drills/region-outage.yaml --config $(LAB_DIR)/drctl.yaml
	@echo
	@$(DRCTL) status --config $(LAB_DIR)/drctl.yaml || true  # degraded: region1's old primary stays fenced
	@echo
	$(DRCTL) dns status --config $(LAB_DIR)/drctl.yaml
	@echo
	@echo "The lab keeps running (pg2 is the primary now): explore it, then 'make lab-down'."
	@echo "Docs by task: README.md's map, then docs/ (docs/lab.md for the lab, docs/cli.md for every command)."

bench: build
	bash bench/run.sh
	bash bench/backup-vs-pgbackrest.sh
	bash bench/failover.sh
	SYNCHRONOUS=1 FAULTS=kill bash bench/failover.sh
	bash bench/switchover.sh
	bash bench/etcd-outage.sh
	bash bench/etcd-leader-loss.sh
	bash bench/etcd-regions.sh
	bash bench/etcd-cost.sh
	bash bench/etcd-cost-patroni.sh
	bash bench/fleet.sh
	bash bench/regions-failover.sh
	bash bench/backup.sh
	bash bench/backup-s3.sh
	bash bench/region-activation.sh
	bash bench/footprint.sh

# A randomized fault campaign against a lab of its own, judged from what the clients saw
# (SEED, DURATION in seconds, MODE=async|sync, FAULTS=kill-node,reboot,..., ETCD_MEMBERS=1|3,
# SHRINK=N campaigns to shrink a violating schedule, FAILSAFE=1 for failover.failsafe,
# HOSTS=1 [LATENCY=40ms] on regions as hosts;
# reports in chaos-SEED.json and .html).
# `make test` runs a short one per mode with fixed seeds.
SEED ?= 1
DURATION ?= 300
MODE ?= async
ETCD_MEMBERS ?= 1
SHRINK ?= 0
chaos: build
	$(DRCTL_LAB) chaos --seed $(SEED) --duration $(DURATION) --mode $(MODE) --etcd-members $(ETCD_MEMBERS) --shrink $(SHRINK) $(if $(FAULTS),--faults $(FAULTS)) $(if $(FAILSAFE),--failsafe) $(if $(HOSTS),--hosts --latency $(or $(LATENCY),40ms)) --report chaos-$(SEED).json

# Many campaigns (SEEDS=1..10, DURATION=90, both modes, 1 and 3 etcd members) and their summary.
chaos-long: build
	bash bench/chaos-long.sh

# Ten minutes of etcd stalls and health-check flaps that must cause no failover.
soak: build
	bash bench/soak.sh
	bash bench/regions-soak.sh

lab-up: build
	$(DRCTL_LAB) up --dir $(LAB_DIR)

lab-down:
	$(DRCTL_LAB) down --dir $(LAB_DIR)

# The binary (release: Swift's runtime linked in, so a host needs only the system libraries
# in packaging/DEPENDENCIES), the agent's systemd unit, the reference configuration, README
# and runbooks. /etc/drctl is created, never overwritten: the configuration is the operator's.
# swift-argument-parser's man page generator (built once; `make test` builds it before the
# tests run, since the install test cannot start a build while `swift test` holds .build).
GENERATE_MANUAL = .build/debug/generate-manual
$(GENERATE_MANUAL):
	$(SWIFT) build --product generate-manual

install: $(GENERATE_MANUAL)
	@# The release binary carries VERSION (`drctl --version`); the source goes back to `dev`.
	@if [ "$(CONFIGURATION)" = release ]; then \
	  $(MAKE) --no-print-directory setup && bash scripts/stamp-version.sh Sources/drctl/BuildVersion.swift "$(VERSION)" && \
	  { $(SWIFT) build $(RELEASE_FLAGS); status=$$?; bash scripts/stamp-version.sh Sources/drctl/BuildVersion.swift dev; exit $$status; }; \
	fi
	install -D -m 0755 .build/$(CONFIGURATION)/drctl $(DESTDIR)$(PREFIX)/bin/drctl
	@# Shell completion from the argument parser itself: always the installed binary's own.
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	.build/$(CONFIGURATION)/drctl --generate-completion-script bash >$(DESTDIR)$(PREFIX)/share/bash-completion/completions/drctl
	.build/$(CONFIGURATION)/drctl --generate-completion-script zsh >$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_drctl
	.build/$(CONFIGURATION)/drctl --generate-completion-script fish >$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/drctl.fish
	@# The man page, from the argument parser's own generator run on the installed binary.
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/man/man1
	$(GENERATE_MANUAL) .build/$(CONFIGURATION)/drctl --date $(MAN_DATE) --output-directory $(DESTDIR)$(PREFIX)/share/man/man1
	install -d -m 0755 $(DESTDIR)$(SYSTEMD_DIR) $(DESTDIR)$(PREFIX)/share/doc/drctl/runbooks
	sed -e 's|/usr/local/bin/drctl|$(PREFIX)/bin/drctl|' -e 's|/usr/local/share/doc/drctl|$(PREFIX)/share/doc/drctl|' examples/drctl-agent@.service >$(DESTDIR)$(SYSTEMD_DIR)/drctl-agent@.service
	install -m 0644 examples/drctl.yaml README.md packaging/DEPENDENCIES $(DESTDIR)$(PREFIX)/share/doc/drctl/
	install -m 0644 runbooks/*.md $(DESTDIR)$(PREFIX)/share/doc/drctl/runbooks/
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/doc/drctl/docs
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/drctl/docs/
	install -d -m 0750 $(DESTDIR)/etc/drctl

# A tarball of what install puts in place (under usr/local and etc/), for hosts without
# a Swift toolchain: tar -xzf drctl-VERSION-linux-ARCH.tar.gz -C /
release:
	rm -rf .build/stage
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/.build/stage PREFIX=/usr/local SYSTEMD_DIR=/etc/systemd/system
	tar -czf drctl-$(VERSION)-linux-$$(uname -m).tar.gz -C .build/stage --owner=0 --group=0 usr etc
	@echo "drctl-$(VERSION)-linux-$$(uname -m).tar.gz: runtime dependencies in usr/local/share/doc/drctl/DEPENDENCIES"

clean:
	@if [ -f $(LAB_DIR)/lab.json ] && [ -x $(DRCTL_LAB) ]; then $(DRCTL_LAB) down --dir $(LAB_DIR); fi
	rm -rf .build
