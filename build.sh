#!/usr/bin/env bash
# Lightning checkout: ./build.sh [build|serve|test|bench]
#   build  the widget's npm package into pkg/ (default)
#   serve  build, then run the demo shop with the embedded provider (HOST, PORT honoured)
#   test   every test: Rust (native), the widget in headless Chromium and Firefox, end to end in
#          Chromium, Firefox and WebKit
#   bench  size, speed and backend throughput against the JavaScript alternatives
#   tools  install what the others need, build nothing
#   doctor prove the bare-machine install of the cargo-installed tools (see README, Tests)
# Each installs what it needs and is missing (Debian packages, the wasm32 target, wasm-pack,
# wasm-bindgen-cli, npm packages from the lock files), or stops with one sentence saying what to
# install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD
# Where `cargo install` puts the tools it builds (CARGO_INSTALL_ROOT, else CARGO_HOME, else
# ~/.cargo): on PATH first, so a tool installed here is the one that runs.
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
TOOLS_ROOT="${CARGO_INSTALL_ROOT:-$CARGO_HOME}"
export PATH="$TOOLS_ROOT/bin:$CARGO_HOME/bin:$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
# need_apt COMMAND PACKAGE: installs PACKAGE with apt-get when COMMAND is missing.
need_apt() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $2 (for $1)"
    if [ $APT_UPDATED = 0 ]; then apt-get update -qq >&2; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    command -v "$1" >/dev/null 2>&1 || die "installing $2 did not provide $1; install it by hand."
  else
    die "$1 is missing: install the Debian package $2 (sudo apt-get install $2)."
  fi
}

# need_postgres: Debian's PostgreSQL server binaries, which the backend's PostgreSQL tests
# (backend/tests/pg) start themselves in a temporary directory, as a non-root user. They are not on
# PATH, so need_apt is asked for them by their directory.
need_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing postgresql (the PostgreSQL store's tests start one)"
    if [ $APT_UPDATED = 0 ]; then apt-get update -qq >&2; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null ||
      die "installing postgresql did not provide /usr/lib/postgresql/*/bin/postgres; install it by hand."
  else
    die "PostgreSQL is missing (no /usr/lib/postgresql/*/bin/postgres): install the Debian package postgresql (sudo apt-get install postgresql)."
  fi
}

need_rust() {
  command -v cargo >/dev/null 2>&1 || die "cargo is missing: install Rust from https://rustup.rs."
  # Asked of rustc, not rustup: a PATH may hold a toolchain's bin/ without rustup's proxies.
  if [ ! -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]; then
    command -v rustup >/dev/null 2>&1 || die "the wasm32-unknown-unknown target is missing: install it with rustup."
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown >&2
  fi
}

# The exact wasm-bindgen version of Cargo.lock: the CLI must match it to the letter.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock
}

# The versions of the tools that build.sh installs with `cargo install`. wasm-bindgen-cli's is
# not here: it is the exact wasm-bindgen version of Cargo.lock.
WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1

# cargo_install CRATE VERSION: installs that exact version. `--locked` first (the lock file the
# tool was published with); when a version it names cannot be had from the registry this
# machine reaches (yanked, missing), one line says so and the same version is built without
# --locked. Only when both fail does it stop, with one sentence.
# BUILD_SH_BREAK_LOCKED=1 points the --locked attempt at an unreachable registry, so that the
# fallback can be proved on a machine where --locked would succeed (./build.sh doctor).
cargo_install() {
  local crate=$1 version=$2 log
  local -a locked=(--locked)
  if [ "${BUILD_SH_BREAK_LOCKED:-0}" = 1 ]; then
    locked+=(--config 'source.crates-io.replace-with="unreachable"'
      --config 'source.unreachable.registry="sparse+http://127.0.0.1:9/index/"')
  fi
  log=$(mktemp)
  say "installing $crate $version (cargo install --locked, a few minutes)"
  if cargo install "${locked[@]}" --force "$crate" --version "$version" >"$log" 2>&1; then
    rm -f "$log"; return 0
  fi
  local why; why=$(grep -m1 '^error' "$log" || tail -n1 "$log")
  say "cargo install --locked $crate $version failed ($why); installing the same version without --locked"
  if ! cargo install --force "$crate" --version "$version" >"$log" 2>&1; then
    tail -n 20 "$log" >&2; rm -f "$log"
    die "could not install $crate $version with cargo: install it by hand (cargo install $crate --version $version) and run again."
  fi
  rm -f "$log"
}

# tool_version COMMAND: the version a tool prints (`name 1.2.3 ...` -> 1.2.3), empty if missing.
tool_version() { "$1" --version 2>/dev/null | awk 'NR == 1 { print $2 }'; }

need_wasm_tools() {
  need_rust
  need_apt clang clang          # secp256k1's C sources, compiled for wasm32
  need_apt llvm-ar llvm
  need_apt wasm-ld lld
  export CC_wasm32_unknown_unknown=clang AR_wasm32_unknown_unknown=llvm-ar
  # Any wasm-pack will do (it only drives cargo and wasm-bindgen); a missing one is pinned.
  command -v wasm-pack >/dev/null 2>&1 || cargo_install wasm-pack "$WASM_PACK_VERSION"
  local want; want=$(wasm_bindgen_version)
  [ -n "$want" ] || die "Cargo.lock names no wasm-bindgen version; run cargo generate-lockfile."
  [ "$(tool_version wasm-bindgen)" = "$want" ] || cargo_install wasm-bindgen-cli "$want"
  [ "$(tool_version wasm-bindgen)" = "$want" ] ||
    die "wasm-bindgen on PATH is $(command -v wasm-bindgen) $(tool_version wasm-bindgen), not $want: remove it or put $TOOLS_ROOT/bin first."
}

need_node() {
  command -v node >/dev/null 2>&1 || need_apt node nodejs
  command -v npm >/dev/null 2>&1 || need_apt npm npm
}

# npm_ci DIR: installs DIR's npm packages exactly as its package-lock.json says.
npm_ci() {
  need_node
  if [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    say "installing npm packages in $1"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

need_browser() {
  need_apt chromium chromium
  need_apt chromedriver chromium-driver
  need_apt zbarimg zbar-tools
}

# The other two engines of the browser tests: Firefox (Debian's ESR, driven by geckodriver from
# crates.io) and WebKit (WebKitGTK's MiniBrowser and WebKitWebDriver, on an Xvfb display).
need_engines() {
  need_apt firefox-esr firefox-esr
  need_apt WebKitWebDriver webkit2gtk-driver
  need_apt xvfb-run xvfb
  [ "$(tool_version geckodriver)" = "$GECKODRIVER_VERSION" ] || cargo_install geckodriver "$GECKODRIVER_VERSION"
  export GECKODRIVER="$(command -v geckodriver)"
  local mb
  for mb in /usr/lib/*/webkit2gtk-4.1/MiniBrowser /usr/lib/*/webkit2gtk-4.0/MiniBrowser; do
    [ -x "$mb" ] && { export MINIBROWSER_PATH="${MINIBROWSER_PATH:-$mb}"; break; }
  done
  [ -n "${MINIBROWSER_PATH:-}" ] || die "WebKitGTK's MiniBrowser is missing: install the Debian package webkit2gtk-driver."
}

# timed NAME COMMAND...: runs COMMAND and says how long it took (the README's test times).
timed() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  say "$name: $((SECONDS - start)) s"
}

# wasm_opt FILE: the size pass every widget build gets, in place. The widget's memory is its own
# (not imported), so it starts zeroed (--zero-filled-memory: zero bytes of data segments are not
# stored), and Rust never uses its first 1 KB (the stack starts at 1 MB and grows down, data and
# heap above it: --low-memory-unused lets address offsets fold). -0.8 KB gzip together.
wasm_opt() {
  tools/node_modules/.bin/wasm-opt -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --zero-filled-memory --low-memory-unused --strip-debug --strip-producers \
    "$1" -o "$1"
}

build() {
  need_wasm_tools
  say "building the widget (wasm-pack, profile wasm-release)"
  # Built aside and swapped in whole: a failed build never leaves a half-made pkg/.
  local out=target/pkg.new
  rm -rf "$out"
  # Panic-location strings name source files: drop this machine's paths from them (shorter
  # wasm, and the same bytes whoever builds it).
  local cargo_home="${CARGO_HOME:-$HOME/.cargo}"
  RUSTFLAGS="--remap-path-prefix=$cargo_home/registry/src/=/ --remap-path-prefix=$ROOT/=/" \
    wasm-pack build --profile wasm-release --target web --out-dir "$out" --out-name lightning_checkout --no-pack . >&2
  npm_ci tools
  say "optimising with wasm-opt -Oz (binaryen from npm, newer than Debian's)"
  wasm_opt "$out/lightning_checkout_bg.wasm"
  # The import and export names that tie the wasm to its glue (hashes, in both files) made short.
  node scripts/short-names.mjs "$out/lightning_checkout_bg.wasm" "$out/lightning_checkout.js" \
    target/short-names.json   # which short name was which import (the bench counts calls by name)
  say "bundling the element shim and the wasm-bindgen glue into one minified module"
  cp js/lightning-checkout.js "$out/entry.js"
  tools/node_modules/.bin/esbuild "$out/entry.js" --bundle --format=esm --minify --target=es2022 \
    --legal-comments=none --log-level=warning --outfile="$out/lightning-checkout.js"
  # The same for a classic <script src> (no type="module"): an iife that defines the element and
  # the global LightningCheckout ({ init, preload, mount }); it finds the .wasm next to itself.
  tools/node_modules/.bin/esbuild "$out/entry.js" --bundle --format=iife --global-name=LightningCheckout \
    --inject:js/iife-url.js --define:import.meta.url=scriptUrl --minify --target=es2022 \
    --legal-comments=none --log-level=warning --outfile="$out/lightning-checkout.iife.js"
  rm -f "$out/entry.js" "$out/lightning_checkout.js" "$out/lightning_checkout.d.ts" "$out/.gitignore" \
    "$out/lightning_checkout_bg.wasm.d.ts"
  cp js/lightning-checkout.d.ts LICENSE-MIT LICENSE-APACHE "$out/"
  # The languages besides English, each fetched only by a page that shows it.
  cp -r js/locales "$out/locales"
  # The package's README is written for npm users (absolute links: it is shown on the registry).
  node scripts/package-readme.mjs > "$out/README.md"
  node scripts/package-json.mjs > "$out/package.json"
  rm -rf pkg && mv "$out" pkg
  local wasm_gz module_gz iife_gz
  wasm_gz=$(gzip -9 -c pkg/lightning_checkout_bg.wasm | wc -c)
  module_gz=$(( $(gzip -9 -c pkg/lightning-checkout.js | wc -c) + wasm_gz ))
  iife_gz=$(( $(gzip -9 -c pkg/lightning-checkout.iife.js | wc -c) + wasm_gz ))
  say "pkg/ ready: the page downloads $module_gz bytes (JS + wasm, gzip -9; $iife_gz with the classic-script build); a language other than English adds $(gzip -9 -c pkg/locales/de.json | wc -c) bytes (de)"
  # The budget holds for both pages: the module one and the classic-script (iife) one.
  PKG_GZ_BYTES=$(( module_gz > iife_gz ? module_gz : iife_gz ))
}

# The size budget (issues 2 and 15): everything a page downloads to show the widget, gzip -9,
# with the module build and with the classic-script one. 79,632 bytes (iife page; module page
# 79,404) when it was set in issue 15's round, down from 90,906: no slice panics (Unicode tables),
# fetch without gloo-net, minified CSS, short glue names, wasm-opt's memory flags. Issue 15 aims
# at 64 KB.
SIZE_BUDGET_BYTES=80400
check_size_budget() {
  [ "$PKG_GZ_BYTES" -le "$SIZE_BUDGET_BYTES" ] ||
    die "the widget is $PKG_GZ_BYTES bytes gzip -9, over its budget of $SIZE_BUDGET_BYTES bytes (see twiggy in BENCH.md)."
  say "size budget: $PKG_GZ_BYTES of $SIZE_BUDGET_BYTES bytes"
}

serve() {
  build
  say "building the reference backend"
  cargo build --release -p lightning-checkout-backend >&2
  export HOST="${HOST:-127.0.0.1}" PORT="${PORT:-8080}"
  exec ./target/release/lightning-checkout-backend
}

native_tests() { cargo test --workspace --quiet 2>&1 | tee target/native-tests.log; }

lints() {
  cargo clippy --workspace --all-targets --quiet -- -D warnings
  cargo clippy -p lightning-checkout -p lightning-checkout-contract --target wasm32-unknown-unknown --all-targets --quiet -- -D warnings
}

test_all() {
  say "build.sh's install decisions (tests/build_sh.sh)"
  bash tests/build_sh.sh
  say "formatting and lints"
  cargo fmt --all -- --check
  need_wasm_tools
  timed "clippy" lints
  need_browser # before the native tests too: tests/qr.rs reads QR codes back with zbarimg
  need_engines
  need_postgres # backend/tests/{store_suite,pg_instances}.rs start a real PostgreSQL
  say "native tests (widget core, contract, backend)"
  timed "native tests" native_tests
  timed "building the widget" build
  check_size_budget
  say "browser tests (wasm-bindgen-test in headless Chromium, then headless Firefox)"
  # webdriver.json (read from here) names each browser's binary and headless flags.
  timed "wasm-bindgen-test, Chromium" env CHROMEDRIVER="$(command -v chromedriver)" WASM_BINDGEN_TEST_TIMEOUT=120 \
    wasm-pack test --headless --chrome . >&2
  timed "wasm-bindgen-test, Firefox" env GECKODRIVER="$(command -v geckodriver)" WASM_BINDGEN_TEST_TIMEOUT=120 \
    wasm-pack test --headless --firefox . >&2
  say "end-to-end tests (real backend; Chromium, Firefox and WebKit; zbarimg)"
  cargo build -p lightning-checkout-backend -p testkit >&2
  npm_ci tests/e2e
  (cd tests/e2e && timed "end-to-end tests" node --test --test-concurrency=1 --test-reporter=spec)
  timed "bundler tests" test_bundlers
}

# The npm package as shop developers use it (tests/bundlers): `npm pack` of pkg/ into tiny
# Vite, webpack, esbuild and React + TSX apps, each built and paid in Chromium against the real
# backend; publint and arethetypeswrong on the tarball. Needs pkg/, the debug backend and
# tests/e2e's harness (run after the end-to-end step).
test_bundlers() {
  say "bundler tests (npm pack into Vite, webpack, esbuild, React + tsc apps; publint, arethetypeswrong)"
  npm_ci tests/e2e
  npm_ci tests/bundlers
  (cd tests/bundlers && node --test --test-concurrency=1 --test-reporter=spec)
}

# Options after `bench` go to bench/run.mjs: --runs N (browser runs, default 25), --rounds N
# (speed rounds, default 7), --secs S (backend load per step, default 5), --quick (a smoke run),
# --only payload,start,speed,backend,hostile (those sections alone; BENCH.md is left as it is).
bench() {
  build
  need_apt chromium chromium
  need_apt brotli brotli
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
  say "building the reference backend and the load generator (release)"
  # Two builds, not one: built together, the load generator's features (hyper's client) would be
  # unified into the backend's dependencies and change the binary that `serve` runs.
  cargo build --release -p lightning-checkout-backend >&2
  cargo build --release -p lightning-checkout-loadgen >&2
  cargo build --release -p testkit >&2   # the slow provider of the hostile run
  say "building a second copy of the widget with the bench hooks (feature bench, src/bench.rs)"
  local out=bench/out/pkg-bench
  rm -rf "$out"
  wasm-pack build --profile wasm-release --target web --out-dir "$out" --out-name lightning_checkout --no-pack . \
    -- --features bench >&2
  # Kept with its function names: bench/run.mjs breaks the code size down by crate from it.
  cp "$out/lightning_checkout_bg.wasm" bench/out/widget-with-names.wasm
  # The same wasm-opt pass as the shipped package, so the timed code is the code that ships.
  wasm_opt "$out/lightning_checkout_bg.wasm"
  # For the CPU profiles of the speed section: the same pass with the function names kept (-g),
  # and the four hot functions it names kept out of line (wasm-opt inlines single callers).
  rm -rf bench/out/pkg-bench-names
  cp -r "$out" bench/out/pkg-bench-names
  tools/node_modules/.bin/wasm-opt --no-inline='*qr::best_mask*' --no-inline='*qr::penalty*' \
    --no-inline='*invoice::bech32_values*' --no-inline='*invoice::parse_fields*' \
    -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    --zero-filled-memory --low-memory-unused -g --strip-producers \
    bench/out/widget-with-names.wasm -o bench/out/pkg-bench-names/lightning_checkout_bg.wasm
  npm_ci tests/e2e   # bench/run.mjs reuses the end-to-end harness (Chromium, backend start-up)
  npm_ci bench
  say "benchmarking (a minute or two)"
  node bench/run.mjs "$@"
}

# Everything `build`, `serve` and `test` install, without building anything.
tools() {
  need_wasm_tools
  need_browser
  npm_ci tools
  npm_ci tests/e2e
}

# The bare-machine install, proved on a machine that has the tools already: a new HOME and
# CARGO_HOME, a PATH with only the Rust toolchain's own bin/ and the system's directories (none
# of the cargo-installed tools), and the --locked attempt made to fail. It installs wasm-pack
# and wasm-bindgen-cli from source into a temporary root and checks their versions. For the
# whole suite the same way, see "Tests" in the README.
doctor() {
  need_rust
  local fresh sysbin start
  fresh=$(mktemp -d "${TMPDIR:-/tmp}/lightning-checkout-doctor.XXXXXX")
  sysbin="$(rustc --print sysroot)/bin"
  start=$(date +%s)
  say "installing the cargo-installed tools into $fresh (a new HOME and CARGO_HOME, --locked made to fail)"
  env -i HOME="$fresh/home" CARGO_HOME="$fresh/cargo" TERM="${TERM:-dumb}" BUILD_SH_BREAK_LOCKED=1 \
    PATH="$sysbin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    bash -c 'command -v wasm-pack wasm-bindgen >/dev/null 2>&1 && { echo "a cargo-installed tool is still on PATH" >&2; exit 1; }; ./build.sh tools' >&2
  local want got_bg got_pack
  want=$(wasm_bindgen_version)
  got_bg=$("$fresh/cargo/bin/wasm-bindgen" --version | awk '{print $2}')
  got_pack=$("$fresh/cargo/bin/wasm-pack" --version | awk '{print $2}')
  [ "$got_bg" = "$want" ] || die "doctor: wasm-bindgen-cli is $got_bg, not $want."
  [ "$got_pack" = "$WASM_PACK_VERSION" ] || die "doctor: wasm-pack is $got_pack, not $WASM_PACK_VERSION."
  say "doctor: wasm-pack $got_pack and wasm-bindgen-cli $got_bg installed from nothing in $(( $(date +%s) - start )) s"
  rm -rf "$fresh"
}

# Sourced (tests/build_sh.sh reads the functions): define, run nothing.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

case "${1:-build}" in
  build) build ;;
  serve) serve ;;
  test) test_all ;;
  bench) shift; bench "$@" ;;
  tools) tools ;;
  doctor) doctor ;;
  *) die "unknown command '$1': use build, serve, test, bench, tools or doctor." ;;
esac
