#!/usr/bin/env bash
# Fails (exit 1) when a C++ file the repository tracks differs from what clang-format 14 makes of
# it under the repository's .clang-format, and lists those files. CI runs it first (.ci/run).
# Fix with: clang-format-14 -i <files>.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
fmt=${CLANG_FORMAT:-clang-format-14}
command -v "$fmt" >/dev/null || { echo "check-format: $fmt not found (scripts/install-deps.sh)" >&2; exit 2; }
# Tracked and new (untracked, not ignored) sources, so a file not yet committed is checked too.
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
  '*.cpp' '*.hpp' '*.h' '*.cc' | sort -u)
# One clang-format run over every file; it names each file it would change in its diagnostics.
# --ferror-limit=1: one diagnostic per file is enough to list it.
mapfile -t bad < <("$fmt" --style=file --dry-run --ferror-limit=1 "${files[@]}" 2>&1 |
  sed -nE 's/^([^:]+):[0-9]+:[0-9]+: (warning|error):.*/\1/p' | sort -u)
if [[ ${#bad[@]} -gt 0 ]]; then
  echo "check-format: ${#bad[@]} of ${#files[@]} files are not clang-format-14 clean:" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files clean"
