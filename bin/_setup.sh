# Shared by bin/demo and bin/test: find Python >= 3.12, make .venv, install the locked
# Python and npm packages. Sourced, not run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

find_python() {
  local candidate
  local candidates=(python3.13 python3.12 python3)
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)"/versions/3.1[2-9]*/bin/python)
  fi
  for candidate in "${candidates[@]}"; do
    # A pyenv shim for a version that is not selected fails this check and is skipped.
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
  if ! PYTHON=$(find_python); then
    echo "Python 3.12 or newer is needed and none was found." >&2
    echo "Install one, e.g. 'apt-get install python3.12-venv' or 'pyenv install 3.12'." >&2
    exit 1
  fi
  echo "Creating .venv with $("$PYTHON" --version) ($PYTHON)"
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi

# Reinstall only when the lock files changed since the last install.
stamp=.venv/.installed-$(cat requirements.lock requirements-dev.lock pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.lock
  .venv/bin/python -m pip install --quiet --no-deps -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is needed for the front-end packages: apt-get install nodejs npm" >&2
  exit 1
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
