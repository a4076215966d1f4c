#!/usr/bin/env bash
# Everything the test suite needs, on a fresh Debian machine with Python 3.11, then the tests.
#
# Installs Debian packages only when they are missing (headless Chromium opens the HTML digest,
# a CJK font draws the charts' Chinese labels, PostgreSQL and Redis binaries for the tests that
# start their own servers), makes the virtual environment, installs parkwatch with its test
# extras and runs pytest. Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_cmd chromium || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk fontconfig)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || have_cmd initdb || missing+=(postgresql)
have_cmd redis-server || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
    echo "scripts/test.sh: installing Debian packages: ${missing[*]}" >&2
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q -e '.[test]'
exec python -m pytest "$@"
