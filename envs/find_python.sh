#!/bin/sh
# Print the path of a Python >= 3.12 for binoval's virtualenv, or one line saying what was found.
# Order: $PYTHON if set, python3, python3.12 / python3.13 on PATH, then the oldest 3.12+ that pyenv has installed
# (3.12 is what envs/requirements.txt was locked and CI runs on).
min_minor=12
ok() { "$1" -c "import sys; sys.exit(sys.version_info < (3, $min_minor))" 2>/dev/null; }
version() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null || echo "not runnable"; }

if [ -n "${PYTHON:-}" ]; then
  if ok "$PYTHON"; then command -v "$PYTHON"; exit 0; fi
  echo "binoval needs Python >= 3.$min_minor: PYTHON=$PYTHON is $(version "$PYTHON")" >&2
  exit 1
fi
found=""
for candidate in python3 python3.12 python3.13; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if ok "$path"; then echo "$path"; exit 0; fi
  found="$found $candidate $(version "$path") ($path)"
done
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for v in $(ls "$root/versions" 2>/dev/null | grep -E '^3\.[0-9]+\.[0-9]+$' | sort -t. -k1,1n -k2,2n -k3,3n); do
  path="$root/versions/$v/bin/python3"
  if ok "$path"; then echo "$path"; exit 0; fi
done
pyenv_versions=$(ls "$root/versions" 2>/dev/null | tr '\n' ' ')
echo "binoval needs Python >= 3.$min_minor and found none: PATH has${found:- no python3}; pyenv ($root) has ${pyenv_versions:-no versions}. Install one or set PYTHON=/path/to/python3.12" >&2
exit 1
