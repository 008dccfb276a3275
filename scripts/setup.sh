#!/usr/bin/env bash
# Sets up everything Kefu needs on this machine; idempotent, and quick when nothing changed.
#   .venv       Kefu's code on the current Python (3.11+), pinned by requirements/kefu.txt
#   .venv-rasa  Rasa Open Source 3.6.21 on Python 3.10, pinned by requirements/rasa.txt
#   redis-server and (with --browser) chromium from Debian, when missing and we may install them
#   the trained model (only when training data, domain or config changed)
set -euo pipefail
cd "$(dirname "$0")/.."
want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

find_python311() {
  for candidate in python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

find_python310() {
  if command -v python3.10 >/dev/null 2>&1 && python3.10 -c 'import sys' 2>/dev/null; then
    command -v python3.10; return 0
  fi
  local root="${PYENV_ROOT:-$HOME/.pyenv}"
  for candidate in "$root"/versions/3.10*/bin/python3.10; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

# venv DIR PYTHON LOCKFILE: create the environment and install the lock when the lock changed.
venv() {
  local dir=$1 python=$2 lock=$3 stamp="$1/.kefu-lock.sha256" sum
  sum=$(sha256sum "$lock" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then return 0; fi
  say "installing $lock into $dir (first time takes a few minutes)"
  [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --upgrade pip wheel 2>&1 | grep -v '^WARNING: Location' || true
  "$dir/bin/python" -m pip install --quiet -r "$lock" 2>&1 | grep -v '^WARNING: Location' || true
  "$dir/bin/python" -m pip check >/dev/null 2>&1 || say "note: pip check reports conflicts in $dir"
  "$dir/bin/python" -c "import sys" || die "$dir is broken"
  echo "$sum" > "$stamp"
}

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "$* missing: install it (Debian: sudo apt-get install $*)"
  fi
  say "installing $* with apt-get"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

py311=$(find_python311) || die "Python 3.11 or newer is needed for .venv"
py310=$(find_python310) || die "Python 3.10 is needed for Rasa 3.6 (.venv-rasa). Install it, e.g. 'pyenv install 3.10.13', or put python3.10 on PATH."

venv .venv "$py311" requirements/kefu.txt
venv .venv-rasa "$py310" requirements/rasa.txt
[ -x .venv-rasa/bin/rasa ] || die ".venv-rasa has no rasa: remove .venv-rasa and run again"

if ! command -v redis-server >/dev/null 2>&1; then
  apt_install redis-server
  # Debian starts a system redis on 6379 when it installs it; Kefu uses its own unless REDIS_URL says otherwise.
fi
if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  apt_install chromium
fi
# Chinese text in the pages (widget, console) renders as boxes without a CJK font.
if [ "$want_browser" = 1 ] && ! { command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh | grep -q .; }; then
  apt_install fonts-noto-cjk
fi

.venv/bin/python -m kefu setup
