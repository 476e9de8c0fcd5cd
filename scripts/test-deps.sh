#!/usr/bin/env bash
# Installs what `make test` runs against that Go does not bring: PostgreSQL
# (the store contract suite starts a throwaway server from Debian's
# postgresql package; it is never skipped). Run as root it installs it with
# apt-get; otherwise it says what to install.
set -euo pipefail
have_pg() {
  command -v initdb >/dev/null && command -v postgres >/dev/null && return 0
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}
have_pg && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing postgresql (for the store tests)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  # Debian starts a cluster on install where it can; the tests start their own.
  exit 0
fi
echo "The store tests need PostgreSQL: apt-get install postgresql (or put initdb and postgres on PATH)." >&2
exit 1
