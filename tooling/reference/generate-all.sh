#!/usr/bin/env bash
# Regenerate every PyTorch golden file: runs each tooling/reference/*.py with /usr/bin/python3 (the interpreter
# with torch; the `python3` on PATH may lack it). Usage: bash tooling/reference/generate-all.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "generate-all: $py cannot import torch (Debian: apt-get install python3-torch)" >&2
  exit 1
fi
status=0
for script in "$here"/*.py; do
  name="$(basename "$script")"
  [ "$name" = common.py ] && continue
  echo "== $name"
  if ! "$py" "$script"; then
    echo "generate-all: $name failed" >&2
    status=1
  fi
done
du -sh "$here/../golden" 2>/dev/null || true
exit $status
