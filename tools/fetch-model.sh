#!/usr/bin/env bash
# Downloads a Hugging Face Hub model in the layout heed reads: config.json,
# generation_config.json, model.safetensors (or its shards and index) and the
# tokenizer files, into DIR. Needs network access to the Hub.
#
#   tools/fetch-model.sh [--revision REV] [--dry-run] REPO_ID DIR
#   tools/fetch-model.sh Helsinki-NLP/opus-mt-en-de models/opus-mt-en-de
#
# --dry-run prints the URLs it would fetch and downloads nothing.
# HF_TOKEN, if set, is sent as a bearer token (gated or private models).
set -euo pipefail

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

revision=main
dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --revision) [[ $# -ge 2 ]] || usage; revision=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) usage ;;
    -*) echo "fetch-model: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[[ $# -eq 2 ]] || usage
repo=$1
dir=$2
if [[ ! "$repo" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
  echo "fetch-model: \"$repo\" is not a Hub repository id (owner/name)" >&2
  exit 2
fi
if [[ ! "$revision" =~ ^[A-Za-z0-9._/-]+$ ]]; then
  echo "fetch-model: \"$revision\" is not a valid revision" >&2
  exit 2
fi
base="https://huggingface.co/$repo/resolve/$revision"

# Required: config.json and the weights. Optional: everything else a family uses.
required=(config.json)
optional=(generation_config.json tokenizer_config.json special_tokens_map.json
  source.spm target.spm vocab.json merges.txt vocab.txt)

fetch() {  # fetch FILE REQUIRED
  local file=$1 needed=$2
  if [[ $dry_run -eq 1 ]]; then
    echo "$base/$file"
    return 0
  fi
  local auth=()
  [[ -n "${HF_TOKEN:-}" ]] && auth=(-H "Authorization: Bearer $HF_TOKEN")
  if curl -fsSL "${auth[@]}" -o "$dir/$file.part" "$base/$file"; then
    mv "$dir/$file.part" "$dir/$file"
    echo "fetched $file"
  else
    rm -f "$dir/$file.part"
    if [[ $needed -eq 1 ]]; then
      echo "fetch-model: cannot fetch $file from $repo (revision $revision)" >&2
      exit 1
    fi
  fi
}

[[ $dry_run -eq 1 ]] || mkdir -p "$dir"
for f in "${required[@]}"; do fetch "$f" 1; done
for f in "${optional[@]}"; do fetch "$f" 0; done
# Weights: one file, or an index naming shards.
if [[ $dry_run -eq 1 ]]; then
  echo "$base/model.safetensors"
elif ! (fetch model.safetensors 0 && [[ -f "$dir/model.safetensors" ]]); then
  fetch model.safetensors.index.json 1
  for shard in $(grep -o '"[^"]*\.safetensors"' "$dir/model.safetensors.index.json" | tr -d '"' | sort -u); do
    fetch "$shard" 1
  done
fi
[[ $dry_run -eq 1 ]] || echo "fetch-model: $repo is in $dir; serve it with heed-server --models_dir=$(dirname "$dir")"
