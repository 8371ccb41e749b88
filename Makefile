# AFD build. `make` builds ./afd; `make test` runs every test; `make bench` the benchmarks;
# `make asan` the whole suite under ASan+UBSan; `make fuzz` the fuzz targets.
CC      ?= cc
CFLAGS  ?= -O2 -g
# project flags apart from CFLAGS, so `make CFLAGS=...` (asan, fuzz) keeps them
XCFLAGS := -std=gnu17 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
           -Wno-missing-field-initializers -Iinclude -Isrc $(CFLAGS)
LDLIBS  += -ledit
B       ?= build

ENGINE_SRC := $(sort $(wildcard src/forth/*.c))
ENGINE_OBJ := $(ENGINE_SRC:src/%.c=$(B)/%.o) $(B)/forth/prelude.o
FORTH_SRC  := forth/core.fs forth/afd.fs
HEADERS    := $(wildcard include/afd/*.h src/forth/*.h src/forth/*.def)

.PHONY: all deps test asan fuzz bench run clean
all: afd

deps:
	@bash scripts/deps.sh all

$(B)/%.o: src/%.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -c -o $@ $<

# The Forth half of the engine is compiled into the binary as C strings.
$(B)/forth/prelude.c: $(FORTH_SRC) scripts/embed.sh
	@mkdir -p $(dir $@)
	bash scripts/embed.sh $(FORTH_SRC) > $@

$(B)/forth/prelude.o: $(B)/forth/prelude.c
	$(CC) $(XCFLAGS) -c -o $@ $<

$(B)/libafd.a: $(ENGINE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/afd: $(B)/main.o $(B)/libafd.a
	$(CC) $(XCFLAGS) -o $@ $^ $(LDLIBS)

afd: $(B)/afd
	cp $< $@

C_TESTS := $(patsubst tests/c/%.c,$(B)/tests/%,$(wildcard tests/c/test_*.c))

$(B)/tests/%: tests/c/%.c $(B)/libafd.a
	@mkdir -p $(dir $@)
	$(CC) $(XCFLAGS) -o $@ $^ -lpthread

test:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory afd $(C_TESTS)
	@bash tests/run.sh

SAN := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
asan:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory B=build-asan CC=clang CFLAGS="$(SAN)" \
		build-asan/afd $(C_TESTS:$(B)/%=build-asan/%)
	@AFD=build-asan/afd TESTS=build-asan/tests bash tests/run.sh

fuzz:
	@bash scripts/deps.sh test
	@bash fuzz/run.sh $(FUZZ_SECONDS)

bench: afd
	@bash scripts/deps.sh bench
	@bash bench/run.sh

run:
	@bash scripts/deps.sh build
	@$(MAKE) --no-print-directory afd
	./afd

clean:
	rm -rf build build-asan build-fuzz afd
