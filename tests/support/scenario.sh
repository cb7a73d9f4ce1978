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
expect_line() {
  grep -Eq -e "$1" "$out" || fail "no line matching: $1"
}
