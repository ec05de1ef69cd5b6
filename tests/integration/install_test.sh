#!/usr/bin/env bash
# `make install` into a temporary prefix: the command, headers, CMake package and Python
# module work from there (a C++ program is built against the package, a Python pipeline runs).
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
fail() { echo "FAIL: $*"; exit 1; }

[[ -x $prefix/bin/zflow ]] || fail "bin/zflow not installed"
[[ -f $prefix/include/zflow/pipeline.h ]] || fail "headers not installed"
[[ -f $prefix/lib/cmake/zflow/zflowConfig.cmake ]] || fail "CMake package not installed"
"$prefix/bin/zflow" --version | grep -q zflow || fail "zflow --version"
# The installed command finds its HTTP module (lib/zflow/zflow-http.so) and serves with it.
[[ -f $prefix/lib/zflow/zflow-http.so ]] || fail "lib/zflow/zflow-http.so not installed"
"$prefix/bin/zflow" serve --no-auth --port 0 --data-dir "$tmp/serve" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/serve.log" | head -1 || true)
  [[ -n $url ]] && break
  sleep 0.1
done
[[ -n $url ]] || { kill $serve_pid; fail "installed zflow serve: $(cat "$tmp/serve.log")"; }
"$prefix/bin/zflow" executions list --endpoint-url "$url" >/dev/null ||
  { kill $serve_pid; fail "installed zflow executions list against its own server"; }
kill $serve_pid
wait $serve_pid 2>/dev/null || true

# The Python package, found by the installed zflow (the build tree is not on any path).
python_dir=$(ls -d "$prefix"/lib/python3*/dist-packages)
[[ -f $python_dir/zflow/__init__.py ]] || fail "Python package not installed"
ls "$python_dir"/zflow/_core*.so >/dev/null || fail "Python extension not installed"
cd "$tmp"
env -u PYTHONPATH "$prefix/bin/zflow" compile "$root/examples/fraud-detection/fraud_pipeline.py" \
  -o "$tmp/fraud" >/dev/null || fail "installed zflow compile pipeline.py"
cmp -s "$tmp/fraud/statemachine.asl.json" "$root/tests/golden/fraud-yaml/statemachine.asl.json" ||
  fail "the installed Python module compiles the fraud pipeline differently"
PYTHONPATH=$python_dir /usr/bin/python3 -c 'import zflow; assert zflow.Pipeline("x").name == "x"' ||
  fail "import zflow from the install"

# A C++ program against the CMake package.
cmake -S "$root/tests/integration/install_consumer" -B "$tmp/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null || fail "find_package(zflow)"
cmake --build "$tmp/consumer" >/dev/null || fail "building against the installed zflow"
out=$("$tmp/consumer/consumer" run --input '{"n": 21}' -q --result-json | tail -1)
grep -q '"Payload":{"n":42' <<<"$out" || fail "the consumer's run: $out"
echo "ok: installed zflow, headers, CMake package and Python module work"
