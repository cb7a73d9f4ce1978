# Sourced by the end-to-end shell tests: `scenario program work` arguments, a fresh work
# directory, the output file every check reads, and the two checks they all use.
# Usage: source "$(dirname "$0")/../support/scenario.sh" "$@"
scenario=$1
work=$3
rm -rf "$work"
mkdir -p "$work"
out="$work/out.txt"
touch "$out"

fail() {
  echo "FAILED ($scenario): $*"
  echo "--- output ---"
  cat "$out"
  exit 1
}
# A missing outside tool: reported as skipped by CTest (SKIP_REGULAR_EXPRESSION "SKIPPED:"),
# never a silent pass; scripts/test lists skips and CI fails on them.
skip() {
  echo "SKIPPED ($scenario): $*"
  exit 0
}
require_tool() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || skip "$tool is not on PATH (scripts/install-deps installs it)"
  done
}
expect_line() {
  grep -Eq -e "$1" "$out" || fail "no line matching: $1"
}
