# Secure Chats — the two commands: `make run` and `make test`. Everything else is a helper.
.PHONY: deps build run cluster cluster-down desktop screenshots test test-asan bench fuzz format clean

JOBS ?= 2

deps:
	@scripts/install-deps

build: deps
	@cmake --preset default >/dev/null
	@cmake --build --preset default -j $(JOBS)

run: build
	./build/bin/secchats-server --listen 127.0.0.1:8080 --tls-listen 127.0.0.1:8443 --tls-self-signed --data-dir ./data

# PostgreSQL, two relays and HAProxy on loopback (docs/operations.md "Try it on one machine");
# prints the URL clients use. ARGS go to scripts/cluster, e.g. ARGS="--port 0 --dir /tmp/c".
cluster: deps
	@cmake --preset default >/dev/null
	@cmake --build --preset default -j $(JOBS) --target secchats-server secchats
	scripts/cluster up $(ARGS)

# Stops what `make cluster` started; the data stays (ARGS=--wipe deletes it).
cluster-down:
	scripts/cluster down $(ARGS)

# The desktop app (Qt 6 Widgets): builds only its target, then starts it.
desktop: deps
	@cmake --preset default >/dev/null
	@cmake --build --preset default -j $(JOBS) --target secchats-desktop
	./build/bin/secchats-desktop $(ARGS)

# Every main screen of the desktop app as a PNG in docs/screenshots/ (headless, against a real
# relay, with the accessibility and clipping checks of desktop_screens_test).
screenshots: deps
	@cmake --preset default >/dev/null
	@cmake --build --preset default -j $(JOBS) --target desktop_screens_test secchats secchats-server
	rm -f docs/screenshots/*.png
	QT_QPA_PLATFORM=offscreen SECCHATS_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots ./build/bin/desktop_screens_test

test: build
	ctest --preset default

test-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)
	ctest --preset asan

# Every benchmark (docs/performance.md). Fails when a recorded ratio got more than 20 % worse
# (bench/guard.py); ARGS go to bench/run, e.g. ARGS=--accept to take such a run's figures.
bench:
	@scripts/install-deps --bench
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)
	bench/run $(ARGS)

# libFuzzer targets (clang + ASan/UBSan), FUZZ_SECONDS per target: see scripts/run-fuzzers.
FUZZ_SECONDS ?= 60
fuzz: deps
	JOBS=$(JOBS) scripts/run-fuzzers $(FUZZ_SECONDS)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build build-asan build-release build-fuzz
