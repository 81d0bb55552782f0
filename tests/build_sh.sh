#!/usr/bin/env bash
# build.sh's install logic against a stand-in `cargo` on PATH that records its arguments and
# fails as told: the real installs are proved by `./build.sh doctor` (README, Tests); this checks
# the decisions fast, in every `./build.sh test`.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
cat >"$work/bin/cargo" <<'STUB'
#!/usr/bin/env bash
echo "$*" >>"$CARGO_STUB_LOG"
case " $* " in
  *" --locked "*) [ "$CARGO_STUB_LOCKED" = ok ] && exit 0
                  echo 'error: failed to select a version for the requirement `webpki-roots = "^1.0.10"` (locked to 1.0.11)' >&2; exit 101 ;;
  *) [ "$CARGO_STUB_UNLOCKED" = ok ] && exit 0; echo 'error: could not compile' >&2; exit 101 ;;
esac
STUB
chmod +x "$work/bin/cargo"
passed=0 failed=0
check() { if eval "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1" >&2; fi; }
# run LOCKED UNLOCKED: cargo_install in a subshell (die exits), output in $work/out. CARGO_HOME
# is $work, so the bin/ that build.sh puts first on PATH is the stand-in's.
run() {
  : >"$work/log"
  ( export HOME="$work/home" CARGO_HOME="$work" PATH="$work/bin:$PATH" CARGO_STUB_LOG="$work/log" CARGO_STUB_LOCKED=$1 CARGO_STUB_UNLOCKED=$2
    # shellcheck source=/dev/null
    source "$here/build.sh"; cargo_install wasm-bindgen-cli 0.2.130 ) >"$work/out" 2>&1
}

run ok ok; rc=$?
check "--locked that resolves is the only attempt" '[ $rc = 0 ] && [ "$(wc -l <"$work/log")" = 1 ] && grep -q -- "--locked" "$work/log"'

run fail ok; rc=$?
check "a --locked that cannot resolve falls back to the same version unlocked" \
  '[ $rc = 0 ] && [ "$(wc -l <"$work/log")" = 2 ] && sed -n 2p "$work/log" | grep -qv -- "--locked" && sed -n 2p "$work/log" | grep -q -- "--version 0.2.130"'
check "the fallback is said in one line, with cargo's reason" \
  '[ "$(grep -c "failed (error: failed to select a version" "$work/out")" = 1 ]'

run fail fail; rc=$?
check "both failing stops with one sentence naming what to install" \
  '[ $rc != 0 ] && grep -q "^build.sh: could not install wasm-bindgen-cli 0.2.130 with cargo: install it by hand (cargo install wasm-bindgen-cli --version 0.2.130)" "$work/out"'

( export HOME="$work/home" CARGO_HOME="$work" BUILD_SH_BREAK_LOCKED=1 PATH="$work/bin:$PATH" CARGO_STUB_LOG="$work/log" CARGO_STUB_LOCKED=ok CARGO_STUB_UNLOCKED=ok
  : >"$work/log"; source "$here/build.sh"; cargo_install geckodriver 0.37.1 ) >/dev/null 2>&1
check "BUILD_SH_BREAK_LOCKED points only the --locked attempt at an unreachable registry" \
  'grep -- "--locked" "$work/log" | grep -q "127.0.0.1:9"'

echo "build.sh: $passed passed, $failed failed"
[ "$failed" = 0 ]
