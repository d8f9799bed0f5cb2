#!/usr/bin/env bash
# Prints the path of a working Python 3.13 interpreter, or explains how to get one and exits 2.
# Order: $PYTHON313, python3.13 on PATH (a pyenv shim counts only if it runs), then pyenv's versions.
set -u
works() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1; }
if [ -n "${PYTHON313:-}" ]; then
  works "$PYTHON313" && { echo "$PYTHON313"; exit 0; }
  echo "PYTHON313=$PYTHON313 is not a working Python 3.13" >&2; exit 2
fi
candidate=$(command -v python3.13 2>/dev/null || true)
works "$candidate" && { echo "$candidate"; exit 0; }
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for candidate in $(ls -d "$root"/versions/3.13*/bin/python3.13 2>/dev/null | sort -rV); do
  works "$candidate" && { echo "$candidate"; exit 0; }
done
cat >&2 <<'MSG'
Python 3.13 was not found (sioless runs on 3.13: the Azure Functions worker runtime needs it).
Install it, then run make again:
  pyenv install 3.13          # with pyenv
  apt-get install python3.13  # or your OS's package, where it has one
or point make at one: make PYTHON313=/path/to/python3.13 ...
MSG
exit 2
