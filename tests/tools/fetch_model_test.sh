#!/usr/bin/env bash
# Argument handling of tools/fetch-model.sh (the download itself needs the Hub,
# which this machine cannot reach).
set -u
script="$(dirname "$0")/../../tools/fetch-model.sh"
failures=0
expect() {  # expect CODE DESCRIPTION -- ARGS...
  local want=$1 what=$2; shift 3
  "$script" "$@" >/tmp/fetch_model_test.out 2>&1
  local got=$?
  if [[ $got -ne $want ]]; then
    echo "FAIL: $what: exit $got, want $want"; cat /tmp/fetch_model_test.out; failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
}
expect 2 "no arguments" --
expect 2 "one argument" -- Helsinki-NLP/opus-mt-en-de
expect 2 "not owner/name" -- opus-mt-en-de /tmp/x
expect 2 "path traversal in repo id" -- ../../etc /tmp/x
expect 2 "unknown option" -- --frobnicate a/b /tmp/x
expect 0 "dry run" -- --dry-run Helsinki-NLP/opus-mt-en-de /tmp/never-created
grep -q "https://huggingface.co/Helsinki-NLP/opus-mt-en-de/resolve/main/model.safetensors" \
  /tmp/fetch_model_test.out || { echo "FAIL: dry run lists the weights"; failures=$((failures + 1)); }
expect 0 "dry run with revision" -- --revision v1.0 --dry-run a/b /tmp/never-created
grep -q "/resolve/v1.0/config.json" /tmp/fetch_model_test.out || { echo "FAIL: revision in URL"; failures=$((failures + 1)); }
[[ ! -e /tmp/never-created ]] || { echo "FAIL: dry run created the directory"; failures=$((failures + 1)); }
echo "$((8 - failures)) passed, $failures failed"
exit $((failures > 0))
