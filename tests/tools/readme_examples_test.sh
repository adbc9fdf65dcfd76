#!/usr/bin/env bash
# The README's examples run as written, and the repository has what the
# README promises (LICENSE, CHANGELOG entry of the current version, examples/).
# The examples: heed-server with examples/config.json
# (the bundled models), and the heed CLI on examples/sentences.txt and
# examples/description.txt. Usage (ctest runs it): readme_examples_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
cd "$2"
# The README stays inside the repository: no link or path above it, and the
# files it names exist.
if grep -n '\.\./' README.md; then echo "FAIL: README points outside the repository"; exit 1; fi
for f in LICENSE CHANGELOG.md examples/sentences.txt examples/description.txt examples/config.json; do
  [[ -s $f ]] || { echo "FAIL: $f is missing"; exit 1; }
done
version=$(sed -n 's/^project(heed VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
grep -q "^## $version " CHANGELOG.md || { echo "FAIL: CHANGELOG.md has no entry for $version"; exit 1; }
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
http_port=$(free_port)
log=$(mktemp)
"$build/server/heed-server" --config=examples/config.json --grpc_address="127.0.0.1:$port" \
  --metrics_address= --http_address="127.0.0.1:$http_port" --request_log=json >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 300); do grep -q ' info serving$' "$log" && break; sleep 0.1; done
grep -q ' info serving$' "$log" || { cat "$log"; echo "FAIL: the server did not start"; exit 1; }
heed=("$build/client/heed" "--address=127.0.0.1:$port")
translations=$("${heed[@]}" translate --stream --beam=1 --max-tokens=40 < examples/sentences.txt)
[[ $(wc -l <<<"$translations") -eq $(wc -l < examples/sentences.txt) ]] ||
  { echo "FAIL: one translation per line expected, got: $translations"; exit 1; }
summary=$("${heed[@]}" summarize --json "$(cat examples/description.txt)")
/usr/bin/python3 -c 'import json, sys; r = json.loads(sys.argv[1]); assert r["text"] and r["model"]["name"] == "bart-synopsis-demo", r' "$summary"
"${heed[@]}" sentiment "What a wonderful film." "Dull and tedious." | grep -q '^POSITIVE'
# The config file's names and defaults are what the catalog says.
"${heed[@]}" models | grep -q '^sentiment .*(default)'
# Every call above has its request log line.
[[ $(grep -c '"code":"OK"' "$log") -eq $(( $(wc -l < examples/sentences.txt) + 2 )) ]] ||
  { cat "$log"; echo "FAIL: request log lines"; exit 1; }
# The curl examples, as the README writes them but on this run's port.
[[ $(curl -s "127.0.0.1:$http_port/models/marian-en-de-demo" -d '{"inputs": "Two dogs are playing in the snow."}') == \
   '[{"translation_text":"Zwei Hunde spielen im Schnee."}]' ]] || { echo "FAIL: curl translation"; exit 1; }
curl -s "127.0.0.1:$http_port/text-classification" -d '{"inputs": "A wonderful, moving film."}' |
  grep -q '^\[\[{"label":"POSITIVE"' || { echo "FAIL: curl text-classification"; exit 1; }
curl -sN "127.0.0.1:$http_port/v1/TranslateStream" -d '{"text": "A man is riding a bicycle."}' |
  grep -q '^data: {"done":{"text":"Ein Mann fährt Fahrrad."' || { echo "FAIL: curl SSE"; exit 1; }
[[ $(curl -s "127.0.0.1:$http_port/v1/Summarize" -d '{"text": "x", "options": {"beamSize": 40}}') == \
   *'"reason":"OPTION_OUT_OF_RANGE"'* ]] || { echo "FAIL: curl error"; exit 1; }
# The server describes itself.
"${heed[@]}" info | grep -q '^version  *[0-9]'
# An error prints its details as the README shows them.
error=$("${heed[@]}" translate --beam=17 "Hello" 2>&1 || true)
[[ $error == *"reason: OPTION_OUT_OF_RANGE"*"field: options.beam_size"* ]] ||
  { echo "FAIL: error details: $error"; exit 1; }
# The Python example, with the package installed into a fresh venv (from a
# copy, so that the build leaves nothing in the source tree).
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$log" "$work"' EXIT
cp -r client/python "$work/package"
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
HEED_PROTO_DIR="$PWD/proto" "$work/venv/bin/pip" install --quiet --no-build-isolation \
  --no-index "$work/package" >/dev/null
sed -n '/^```python$/,/^```$/p' README.md | sed '1d;$d' |
  sed "s/127.0.0.1:50051/127.0.0.1:$port/" >"$work/example.py"
python_output=$(cd "$work" && env -u PYTHONPATH venv/bin/python example.py)
[[ $python_output == "Zwei Hunde spielen im Schnee."*"OPTION_OUT_OF_RANGE"*"options.beam_size"* ]] ||
  { echo "FAIL: the Python example printed: $python_output"; exit 1; }
echo "README examples: ok"
