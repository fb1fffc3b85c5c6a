# Build release binaries and install them onto PATH:
#   make install                      # into /usr/local/bin
#   make install PREFIX=$HOME/.local  # or anywhere; DESTDIR=/tmp/stage for packaging
# The binaries link the Swift runtime of the toolchain that built them (README, "Installing").
PREFIX ?= /usr/local
BINDIR = $(DESTDIR)$(PREFIX)/bin
SWIFT ?= swift
RELEASE = .build/release
PROGRAMS = broker-server bus-cli

.PHONY: all build install uninstall static

all: build

build:
	$(SWIFT) build -c release --product broker-server
	$(SWIFT) build -c release --product bus-cli

install: build
	install -d $(BINDIR)
	install -m 0755 $(addprefix $(RELEASE)/,$(PROGRAMS)) $(BINDIR)/

uninstall:
	rm -f $(addprefix $(BINDIR)/,$(PROGRAMS))

# One self-contained broker-server (README, "One self-contained file"): the Swift runtime and
# libstdc++ linked in, start-up code laid out together (link/). Its own scratch path, so it
# never overwrites the dynamic build. SwiftPM does not relink for a changed order file alone:
# the binary is removed first, so this always links with the current list.
STATIC = .build-static/release
static:
	rm -f $(STATIC)/broker-server
	$(SWIFT) build -c release --product broker-server --static-swift-stdlib --scratch-path .build-static \
	  -Xswiftc -use-ld=lld -Xswiftc -L"$(CURDIR)/link/libstdc++" \
	  -Xlinker --symbol-ordering-file="$(CURDIR)/link/broker-server.order" -Xlinker --no-warn-symbol-ordering

# bus.js is embedded in the broker (GET /bus.js): regenerate after editing clients/js/bus.js.
.PHONY: bus-js
bus-js:
	python3 clients/js/embed.py
