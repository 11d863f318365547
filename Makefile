# Convenience targets over the scripts (they are what CI runs).
#   make                          scripts/build.sh: the library and the command-line tool
#   make install PREFIX=/usr/local scripts/install.sh: library, header, textmodel.pc, CLI
#   make test                     scripts/test.sh: every test
PREFIX ?= /usr/local

all:
	scripts/build.sh

install:
	PREFIX="$(PREFIX)" scripts/install.sh

test:
	scripts/test.sh

.PHONY: all install test
