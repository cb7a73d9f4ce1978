#!/usr/bin/env bash
# Installs the build into a temporary prefix, then configures, builds and runs a separate
# consumer project against it with find_package(EventSourcingActors).
set -euo pipefail
build_dir=$1
link_flags=${2:-}  # the build's own linker flags (the sanitizers' in build-asan)
source_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/es-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXE_LINKER_FLAGS="$link_flags" >/dev/null
cmake --build "$work/build" -j2 >/dev/null
"$work/build/consumer"
