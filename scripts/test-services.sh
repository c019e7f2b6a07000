#!/usr/bin/env bash
# Installs the servers the test suite runs for real, from Debian's packages, when absent:
# PostgreSQL (row-level security tests, the local drill's streaming replication), redis-server
# (tenant namespace tests, the local drill) and PgBouncer (the local drill's pools); and what
# the plan report needs: Graphviz (its diagram), Chromium with its driver (the report's
# end-to-end test and screenshot) and the DejaVu fonts both draw text with. The
# tests start their own private instances on loopback (tests/db/conftest.py,
# tests/cache/conftest.py, and the local drill: infra/local/servers.py); this script only
# makes sure the binaries exist.
# Needs root or sudo when something is missing; does nothing when all is installed.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing ${need[*]} from Debian's packages for the test suite"
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: ${need[*]} missing and no sudo to install it; install it and rerun" >&2; exit 1; }
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
