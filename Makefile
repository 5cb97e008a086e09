# SPDX-License-Identifier: MIT
# wq — a message queue that lives in a directory.

# The one place the version is written is include/wq.h.
VERSION != sed -n 's/^\#define WQ_VERSION[^"]*"\(.*\)"/\1/p' include/wq.h
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DATADIR ?= $(PREFIX)/share
PKG_CONFIG ?= pkg-config
CC ?= cc
CFLAGS ?= -O2 -g
SONAME_MAJOR = 0

DEPS = libbsd-overlay libzstd jansson libmd
DEP_CFLAGS != $(PKG_CONFIG) --cflags $(DEPS)
DEP_LIBS != $(PKG_CONFIG) --libs $(DEPS)

ifdef SANITIZE
override CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=address,undefined
endif

# The commands are linked statically (all but wq-create, see below):
# loading a dynamic libc and its libraries costs every call of a command
# about a millisecond, a third of what a one-shot wq-send spends
# (bench/README.md).  STATIC=0 links them dynamically; sanitizer builds
# always do.
STATIC ?= 1
ifdef SANITIZE
override STATIC = 0
endif
ifeq ($(STATIC),1)
BIN_LDFLAGS = -static
BIN_LIBS != $(PKG_CONFIG) --static --libs $(DEPS)
BIN_LIBS += -lresolv
else
BIN_LIBS = $(LIBS)
endif

WARNINGS = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes
override CFLAGS += -std=c11 -D_GNU_SOURCE $(WARNINGS) -fPIC -Iinclude -Ilib \
	$(DEP_CFLAGS)
LIBS = $(DEP_LIBS) -lresolv

LIB_SRC = $(sort $(wildcard lib/*.c))
LIB_OBJ = $(LIB_SRC:.c=.o)
CMD_COMMON = cmd/common.o cmd/policy.o
# wq-serve shows queues as wq-stat does, with these.
STAT_SHARED = cmd/stat-row.o cmd/stat-prom.o cmd/stat-clock.o
STAT_OBJ = cmd/wq-stat.o cmd/stat-check.o $(STAT_SHARED)
CMDS = wq-create wq-send wq-recv wq-ack wq-stat wq-rm wq-redrive wq-fsck
BINS = $(addprefix build/,$(CMDS)) build/wq-serve

# wq-serve: libmicrohttpd, libjwt and OpenSSL besides libwq's own.
SERVE_DEPS = libmicrohttpd libjwt openssl
SERVE_CFLAGS != $(PKG_CONFIG) --cflags $(SERVE_DEPS)
SERVE_LIBS != $(PKG_CONFIG) --libs $(SERVE_DEPS)
SERVE_SRC = $(sort $(wildcard serve/*.c))
SERVE_OBJ = $(SERVE_SRC:.c=.o) serve/assets.o
AUTH_OBJ = serve/auth.o serve/jwt.o serve/tokens.o
UNIT_SRC = $(sort $(wildcard tests/unit/*.c))
UNIT_BINS = $(patsubst tests/unit/%.c,build/unit/%,$(UNIT_SRC))
MANS = $(sort $(wildcard man/*.[157]))

all: build/libwq.a build/libwq.so $(BINS)

lib/%.o: lib/%.c include/wq.h $(wildcard lib/*.h)
	$(CC) $(CFLAGS) -c -o $@ $<

cmd/%.o: cmd/%.c include/wq.h cmd/common.h
	$(CC) $(CFLAGS) -c -o $@ $<

$(STAT_OBJ) $(STAT_SHARED): cmd/stat.h

serve/%.o: serve/%.c include/wq.h $(wildcard serve/*.h) cmd/common.h cmd/stat.h
	$(CC) $(CFLAGS) $(SERVE_CFLAGS) -c -o $@ $<

serve/assets.o: serve/assets.S serve/dashboard.html serve/openapi.json
	$(CC) -c -o $@ serve/assets.S

# wq-serve is a long-running server: linked dynamically, start-up cost
# does not matter and libjwt has no static library.
build/wq-serve: $(SERVE_OBJ) $(STAT_SHARED) $(CMD_COMMON) build/libwq.a
	$(CC) $(LDFLAGS) -pthread -o $@ $(SERVE_OBJ) $(STAT_SHARED) \
	    $(CMD_COMMON) build/libwq.a $(SERVE_LIBS) $(LIBS)

build/libwq.a: $(LIB_OBJ)
	@mkdir -p build
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

build/libwq.so: $(LIB_OBJ)
	@mkdir -p build
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libwq.so.$(SONAME_MAJOR) -o $@ $(LIB_OBJ) $(LIBS)

# wq-stat is split by output: the table and JSON, Prometheus, the checks.
build/wq-stat: $(STAT_OBJ) $(CMD_COMMON) build/libwq.a
	$(CC) $(LDFLAGS) $(BIN_LDFLAGS) -o $@ $(STAT_OBJ) $(CMD_COMMON) \
	    build/libwq.a $(BIN_LIBS)

# wq-create looks group names up through NSS: it is linked dynamically.
build/wq-create: cmd/wq-create.o $(CMD_COMMON) build/libwq.a
	$(CC) $(LDFLAGS) -o $@ $< $(CMD_COMMON) build/libwq.a $(LIBS)

build/wq-%: cmd/wq-%.o $(CMD_COMMON) build/libwq.a
	$(CC) $(LDFLAGS) $(BIN_LDFLAGS) -o $@ $< $(CMD_COMMON) build/libwq.a \
	    $(BIN_LIBS)

# Dynamically linked commands, for valgrind (make torture) and for
# libfaketime, which cannot shift a static binary's clock (clock-skew tests).
DYN_CMDS = $(patsubst %,build/dyn/%,$(CMDS))
build/dyn/wq-stat: $(STAT_OBJ) $(CMD_COMMON) build/libwq.a
	@mkdir -p build/dyn
	$(CC) $(LDFLAGS) -o $@ $(STAT_OBJ) $(CMD_COMMON) build/libwq.a $(LIBS)

build/dyn/wq-%: cmd/wq-%.o $(CMD_COMMON) build/libwq.a
	@mkdir -p build/dyn
	$(CC) $(LDFLAGS) -o $@ $< $(CMD_COMMON) build/libwq.a $(LIBS)

build/unit/%: tests/unit/%.c tests/unit/tap.h build/libwq.a
	@mkdir -p build/unit
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libwq.a $(LIBS)

build/unit/t-auth: tests/unit/t-auth.c tests/unit/tap.h $(AUTH_OBJ)
	@mkdir -p build/unit
	$(CC) $(CFLAGS) $(SERVE_CFLAGS) -Iserve $(LDFLAGS) -o $@ $< \
	    $(AUTH_OBJ) $(SERVE_LIBS) $(LIBS)

# Test helpers: JWTs made with libjwt.
build/tools/jwtmint: tests/tools/jwtmint.c
	@mkdir -p build/tools
	$(CC) $(CFLAGS) $(SERVE_CFLAGS) $(LDFLAGS) -o $@ $< $(SERVE_LIBS) $(LIBS)

build/bench/%: bench/%.c bench/bench.h build/libwq.a
	@mkdir -p build/bench
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libwq.a $(LIBS)

# Benchmarks (not part of check): wq beside the floor and the peers of
# ../shared/peers, in one run; see bench/README.md.  BENCH_ARGS are given
# to bench/run.py (e.g. BENCH_ARGS="--rounds 1 --only tmpfs").
bench: all build/bench/depth build/bench/wqbench
	bench/run.py $(BENCH_ARGS)

# wq-serve beside a trivial libmicrohttpd handler, with wrk; see
# bench/README.md "HTTP".  BENCH_HTTP_ARGS are given to bench/http/run.py.
build/bench/mhd-trivial: bench/mhd-trivial.c
	@mkdir -p build/bench
	$(CC) $(CFLAGS) $(SERVE_CFLAGS) $(LDFLAGS) -pthread -o $@ $< \
	    $(SERVE_LIBS) $(LIBS)

build/bench/http-wake: bench/http/wake.c bench/bench.h build/libwq.a
	@mkdir -p build/bench
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< build/libwq.a $(LIBS)

bench-http: build/wq-serve build/wq-create build/wq-send build/wq-stat \
    build/wq-recv build/bench/wqbench build/bench/mhd-trivial \
    build/bench/http-wake
	bench/http/run.py $(BENCH_HTTP_ARGS)

# Two hosts on one GlusterFS volume (tests/sharedfs, as root): wq beside
# the raw-filesystem floor (bench/mhfloor.c) with producers on one host
# and consumers on the other, and both hosts doing both, plus the wake
# latency from a send on one host to a waiting consumer on the other; see
# bench/README.md "Two hosts".  BENCH_MH_ARGS are given to
# bench/multihost.sh (e.g. BENCH_MH_ARGS="-r 1 -n 300 -w 20").
bench-multihost: all build/bench/mhfloor
	bench/multihost.sh $(BENCH_MH_ARGS)

# The long reliability runs (tests/RELIABILITY.md): ten minutes of crash
# torture, every I/O fault at every call with four errnos, memory growth
# over 100,000 messages, valgrind memcheck and ThreadSanitizer (fuzz-long
# is apart).
# TORTURE_SECONDS, GROWTH_MESSAGES and VALGRIND_MESSAGES scale them.
TORTURE_SECONDS ?= 600
GROWTH_MESSAGES ?= 100000
VALGRIND_MESSAGES ?= 2000
torture: all build/dyn/wq-recv tsan
	tests/torture/torture.py --seconds $(TORTURE_SECONDS) \
	    --min-kills 1000 --json build/torture.json
	tests/tools/fault-sweep --errnos EIO,ENOSPC,EDQUOT,ESTALE --all
	tests/torture/growth.py --messages $(GROWTH_MESSAGES) \
	    --valgrind $(VALGRIND_MESSAGES) --json build/growth.json

# ThreadSanitizer on wq-serve (the one program with threads): a copy of
# the tree built with -fsanitize=thread in build/tsan/, its serve tests
# run there; a data race stops the server and fails them.
TSAN_TESTS = tests/1400-serve-api.bats tests/1410-serve-auth.bats \
	tests/1420-serve-robust.bats
tsan:
	rm -rf build/tsan && mkdir -p build/tsan
	tar -cf - --exclude=./build --exclude='*.o' --exclude=./.git . | \
	    tar -xf - -C build/tsan
	$(MAKE) -C build/tsan STATIC=0 CFLAGS="-O1 -g -fsanitize=thread" \
	    LDFLAGS=-fsanitize=thread all build/tools/jwtmint
	cd build/tsan && TSAN_OPTIONS="halt_on_error=1 exitcode=66" \
	    PATH="$(CURDIR)/build/tsan/build:$$PATH" \
	    bats --print-output-on-failure $(TSAN_TESTS)

# A short tour on the default spool ($WQ_DIR, else ~/.local/share/wq).
demo: all
	@set -e; PATH="$(CURDIR)/build:$$PATH"; \
	echo '$$ wq-create -p demo'; wq-create -p demo; \
	echo '$$ wq-send demo "hello" "from" "wq"'; wq-send demo hello from wq; \
	echo '$$ wq-stat demo'; wq-stat demo; \
	echo "$$ wq-recv -n 3 demo -- sh -c 'echo \"handled \$$WQ_ID: \$$(cat)\"'"; \
	wq-recv -n 3 demo -- sh -c 'echo "handled $$WQ_ID: $$(cat)"'; \
	echo '$$ wq-stat demo'; wq-stat demo

# tests/1600 and 1620 skew a host's clock with libfaketime, which only
# dynamically linked commands see: check builds them all (DYN_CMDS).
check: all $(UNIT_BINS) $(DYN_CMDS) build/tools/jwtmint lint
	prove $(UNIT_BINS)
	PATH="$(CURDIR)/build:$$PATH" WQ_SANITIZED=$(if $(SANITIZE),1,) \
	    bats --timing --print-output-on-failure tests/

# The multi-host harness over the Linux NFS client under qemu (not part of
# check: it boots guests for a few minutes); tests/multihost/README.md.
check-nfs: all
	tests/multihost/check-nfs.sh

# Fuzzing with libFuzzer (fuzz/README.md).  libwq and the parsers of
# wq-serve are compiled again with clang's instrumentation into
# build/fuzz/obj/, apart from the objects of the normal build.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 3
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -std=c11 \
	-D_GNU_SOURCE $(WARNINGS) -Iinclude -Ilib $(DEP_CFLAGS) $(SERVE_CFLAGS)
FUZZ_SRC = $(sort $(wildcard fuzz/fuzz-*.c))
FUZZ_BINS = $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
FUZZ_OBJ = $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRC) $(AUTH_OBJ:.o=.c) \
	serve/api-parse.c)

build/fuzz/obj/lib/%.o: lib/%.c include/wq.h $(wildcard lib/*.h)
	@mkdir -p build/fuzz/obj/lib
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/obj/serve/%.o: serve/%.c include/wq.h $(wildcard serve/*.h)
	@mkdir -p build/fuzz/obj/serve
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/%: fuzz/%.c fuzz/fuzz.h build/fuzz/libfuzzwq.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iserve -fsanitize=fuzzer -o $@ $< \
	    build/fuzz/libfuzzwq.a $(SERVE_LIBS) $(LIBS)

build/fuzz/libfuzzwq.a: $(FUZZ_OBJ)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_OBJ)

fuzz: $(FUZZ_BINS)

# Each target for FUZZ_SECONDS over its corpus in build/fuzz/corpus/
# (the seeds of fuzz/corpus/ copied in, what it found before kept); a
# crash, leak or sanitizer report fails, its input in build/fuzz/crash/.
fuzz-short: fuzz
	@mkdir -p build/fuzz/crash build/fuzz/log; \
	for f in $(FUZZ_BINS); do t=$${f#build/fuzz/fuzz-}; \
	    mkdir -p build/fuzz/corpus/$$t; \
	    cp fuzz/corpus/$$t/* build/fuzz/corpus/$$t/; \
	    dict=; test -f fuzz/$$t.dict && dict=-dict=fuzz/$$t.dict; \
	    if $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	        -print_final_stats=1 $$dict \
	        -artifact_prefix=build/fuzz/crash/$$t- \
	        build/fuzz/corpus/$$t > build/fuzz/log/$$t.log 2>&1; then \
	        echo "$$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' \
	            build/fuzz/log/$$t.log) runs in $(FUZZ_SECONDS) s, corpus" \
	            "$$(ls build/fuzz/corpus/$$t | wc -l)"; \
	    else tail -n 60 build/fuzz/log/$$t.log; \
	        echo "$$t: FAILED (log: build/fuzz/log/$$t.log)"; exit 1; fi; \
	done

# The same, 300 s a target unless FUZZ_SECONDS is given.
fuzz-long:
	$(MAKE) fuzz-short FUZZ_SECONDS=$(if $(filter command line environment,\
	    $(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),300)

lint:
	mandoc -Tlint -W warning $(MANS)
	shellcheck -s bash completions/wq.bash tests/*.bash
	shellcheck tests/multihost/*.sh
	shellcheck -s bash tests/1600-multihost-gluster.bats
	bash -n completions/wq.bash
	zsh -n completions/_wq
	fish -n completions/wq.fish

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions \
	    $(DESTDIR)$(DATADIR)/zsh/site-functions \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d \
	    $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 build/libwq.a $(DESTDIR)$(LIBDIR)
	install -m 755 build/libwq.so $(DESTDIR)$(LIBDIR)/libwq.so.$(VERSION)
	ln -sf libwq.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libwq.so.$(SONAME_MAJOR)
	ln -sf libwq.so.$(SONAME_MAJOR) $(DESTDIR)$(LIBDIR)/libwq.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    lib/libwq.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libwq.pc
	install -m 644 include/wq.h $(DESTDIR)$(INCLUDEDIR)
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7
	for c in $(CMDS) wq-serve; do \
	    install -m 644 completions/wq.bash \
	        $(DESTDIR)$(DATADIR)/bash-completion/completions/$$c; done
	install -m 644 completions/_wq $(DESTDIR)$(DATADIR)/zsh/site-functions
	install -m 644 completions/wq.fish \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/wq.fish
	for u in wq-serve.service wq-recv@.service; do \
	    sed 's|/usr/local/bin/|$(BINDIR)/|' contrib/systemd/$$u \
	        > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
	    chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; done
	install -m 644 contrib/systemd/wq-serve.socket $(DESTDIR)$(SYSTEMDUNITDIR)

clean:
	rm -rf build lib/*.o cmd/*.o serve/*.o

.PHONY: all bench bench-http bench-multihost check check-nfs demo fuzz fuzz-short fuzz-long lint install \
	clean torture tsan
