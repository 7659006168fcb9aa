# Top-level Makefile: everything real happens in src/Makefile.
# Variables such as MALLOC=libc, SANITIZER=address|undefined and PREFIX pass through.

.PHONY: all test test-unit install clean distclean check-deps valkey-server

all:
	$(MAKE) -C src

valkey-server:
	$(MAKE) -C src valkey-server

check-deps:
	@sh deps/check-deps.sh

test: all
	./runtest

test-unit:
	$(MAKE) -C src test-unit

install:
	$(MAKE) -C src install

clean:
	$(MAKE) -C src clean

distclean:
	$(MAKE) -C src distclean
