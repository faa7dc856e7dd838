# The short front for the CMake build.  Every target installs what is
# missing first (scripts/install-deps.sh, quiet when nothing is).
#
#   make            build into build/ (the command is build/kasa)
#   make run        build, import the examples into the default store
#                   (./kasa.db), then serve it over TAXII 2.1 on
#                   http://127.0.0.1:8080/taxii2/ (Ctrl-C stops it)
#   make test       -Werror build + whole suite (gcc), then again built by
#                   clang under ASan+UBSan (clang's UBSan checks more: a
#                   null pointer plus zero, which gcc's lets through)
#   make fuzz       libFuzzer harnesses (clang) in build-fuzz/, FUZZ_SECONDS each
#   make bench      build, then run the benchmarks in bench/

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps run test test-plain test-asan fuzz bench clean

all: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)

deps:
	@sh scripts/install-deps.sh

run: all
	@./build/kasa import --progress none examples/emdivi-bundle.json >/dev/null
	@./build/kasa import --progress none examples/misp-event.json >/dev/null
	@./build/kasa serve --listen $(or $(LISTEN),127.0.0.1:8080)

test: deps test-plain test-asan

test-plain:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKASA_WERROR=ON >/dev/null
	cmake --build build -j $(JOBS)
	ctest --test-dir build --output-on-failure -j $(JOBS)

test-asan:
	@grep -qs '^CMAKE_C_COMPILER:.*clang' build-asan/CMakeCache.txt || rm -rf build-asan
	CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKASA_WERROR=ON -DKASA_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --test-dir build-asan --output-on-failure -j $(JOBS)

fuzz: deps
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DKASA_FUZZ=ON -DKASA_SANITIZE=ON -DKASA_TESTS=OFF >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	@for f in build-fuzz/fuzz/*; do \
	    name=$$(basename $$f); mkdir -p build-fuzz/corpus/$$name; \
	    echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	        build-fuzz/corpus/$$name fuzz/corpus/$$name || exit 1; \
	done

bench: all
	@for b in build/bench/*; do echo "== $$b"; $$b || exit 1; done

clean:
	rm -rf build build-asan build-fuzz
