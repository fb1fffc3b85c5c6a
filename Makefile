# Build release binaries and install them onto PATH:
#   make install                      # into /usr/local/bin
#   make install PREFIX=$HOME/.local  # or anywhere; DESTDIR=/tmp/stage for packaging
# The binaries link the Swift runtime of the toolchain that built them (README, "Installing").
PREFIX ?= /usr/local
BINDIR = $(DESTDIR)$(PREFIX)/bin
SWIFT ?= swift
RELEASE = .build/release
PROGRAMS = broker-server bus-cli

.PHONY: all build install uninstall

all: build

build:
	$(SWIFT) build -c release --product broker-server
	$(SWIFT) build -c release --product bus-cli

install: build
	install -d $(BINDIR)
	install -m 0755 $(addprefix $(RELEASE)/,$(PROGRAMS)) $(BINDIR)/

uninstall:
	rm -f $(addprefix $(BINDIR)/,$(PROGRAMS))

# bus.js is embedded in the broker (GET /bus.js): regenerate after editing clients/js/bus.js.
.PHONY: bus-js
bus-js:
	python3 clients/js/embed.py
