#!/usr/bin/env bash
# Install the Debian packages the tests need, only those that are missing:
#   postgresql  initdb/pg_ctl for the real PostgreSQL server tests/pg_server.py starts
#   chromium    the headless browser the HTML report test renders with
#   fonts-wqy-zenhei  a CJK font, so Chromium draws the report's Chinese (Debian's chromium has none)
# Idempotent and quiet: prints nothing when everything is there. Runs apt-get as root,
# through sudo otherwise; without either it says what to install and fails.
set -euo pipefail

PACKAGES=(postgresql chromium fonts-wqy-zenhei)

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian-based system; install ${PACKAGES[*]} with your package manager" >&2
    # The tests only need the programs, whichever way they were installed.
    if { command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; } \
        && command -v chromium >/dev/null 2>&1; then
        exit 0
    fi
    exit 1
fi

missing=()
for package in "${PACKAGES[@]}"; do
    installed "$package" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "system-deps: missing Debian packages: ${missing[*]}; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
