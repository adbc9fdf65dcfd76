#!/usr/bin/env bash
# The C++ client library as others use it: installed from BUILD_DIR into a
# temporary prefix, found with find_package(heedClient) by
# examples/cpp_client (built outside the tree against the installed files
# only), and run against a real heed-server.
# Usage (ctest runs it): client_package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
work=$(mktemp -d)
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null; rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
# A sanitizer build's libraries need the same runtime in the consumer.
sanitize=$(sed -n 's/^HEED_SANITIZE:STRING=\(.\+\)$/\1/p' "$build/CMakeCache.txt")
flags=${sanitize:+-fsanitize=$sanitize}
cmake -S "$source/examples/cpp_client" -B "$work/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; echo "FAIL: configuring the consumer"; exit 1; }
cmake --build "$work/consumer" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; echo "FAIL: building the consumer"; exit 1; }
# The consumer saw the installed files, not heed's build or source trees.
if grep -qE "$build|$source/(client|proto|core|server)" "$work/consumer/build.ninja"; then
  echo "FAIL: the consumer's build refers to heed's trees"; exit 1
fi
log="$work/server.log"
"$build/server/heed-server" --models_dir="$source/tests/golden/models" \
  --grpc_address=127.0.0.1:0 --metrics_address= >"$log" 2>&1 &
server=$!
for _ in $(seq 300); do grep -q ' info serving$' "$log" && break; sleep 0.1; done
port=$(sed -n 's/.* grpc listening on port \([0-9]*\)$/\1/p' "$log")
[[ -n $port ]] || { cat "$log"; echo "FAIL: the server did not start"; exit 1; }
"$work/consumer/translate" "127.0.0.1:$port" "A dog runs." >"$work/out.txt" ||
  { echo "FAIL: the consumer's call failed"; exit 1; }
[[ -s $work/out.txt ]] || { echo "FAIL: no translation"; exit 1; }
if "$work/consumer/translate" "127.0.0.1:$port" "" 2>"$work/err.txt"; then
  echo "FAIL: an empty text succeeded"; exit 1
fi
grep -q "reason: EMPTY_INPUT" "$work/err.txt" || { cat "$work/err.txt"; echo "FAIL: details"; exit 1; }
echo "1 passed, 0 failed"
