#!/usr/bin/env bash
# Formats every C++ file of the tree with clang-format (.clang-format: Google style).
# --check: only report files that would change; non-zero exit if any.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.h' '*.cc' '*.proto')
if [[ "${1:-}" == "--check" ]]; then
  clang-format --dry-run -Werror "${files[@]}"
else
  clang-format -i "${files[@]}"
fi
