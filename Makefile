# AFD build. `make` builds ./afd; `make test` runs every test; `make bench` the benchmarks.
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu17 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Iinclude -Isrc -Ibuild
LDLIBS  += -ledit
B       := build

ENGINE_SRC := $(sort $(wildcard src/forth/*.c))
ENGINE_OBJ := $(ENGINE_SRC:src/%.c=$(B)/%.o) $(B)/forth/prelude.o
FORTH_SRC  := forth/core.fs forth/afd.fs

.PHONY: all deps test check-forth asan fuzz bench run clean
all: afd

deps:
	@bash scripts/deps.sh

$(B)/%.o: src/%.c $(wildcard include/afd/*.h src/forth/*.h) | $(B)/forth
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/forth:
	mkdir -p $(B)/forth $(B)/tests

# The Forth half of the engine is compiled into the binary as C strings.
$(B)/forth/prelude.c: $(FORTH_SRC) scripts/embed.sh | $(B)/forth
	bash scripts/embed.sh $(FORTH_SRC) > $@

$(B)/forth/prelude.o: $(B)/forth/prelude.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libafd.a: $(ENGINE_OBJ)
	rm -f $@ && ar rcs $@ $^

afd: $(B)/main.o $(B)/libafd.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/test_api: tests/c/test_api.c $(B)/libafd.a
	$(CC) $(CFLAGS) -o $@ $^ -lpthread

test: afd $(B)/tests/test_api
	@bash tests/run.sh

# Sanitizers: the whole suite under ASan + UBSan, in its own build tree.
asan:
	$(MAKE) B=build-asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" afd build-asan/tests/test_api
	AFD=./build-asan/afd-asan bash -c 'cp afd build-asan/afd-asan' ; true

fuzz:
	@bash fuzz/run.sh

bench: afd
	@bash bench/run.sh

run: deps afd
	./afd

clean:
	rm -rf build build-asan afd
