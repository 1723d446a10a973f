#!/usr/bin/env bash
# Print running/stopped for each stack component (and, for information, any other process
# started with cz_start, e.g. the services). Exit 0 unless --check is given: then exit 1
# if mariadb, kafka or minio is stopped.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../lib
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
here="$(dirname "${BASH_SOURCE[0]}")"

all=0
for c in mariadb kafka minio; do
  bash "$here/$c.sh" status || all=1
done
shopt -s nullglob
for f in "$CZ_PID_DIR"/*.pid; do
  name=$(basename "$f" .pid)
  case "$name" in mariadb | kafka | minio) continue ;; esac
  if pid=$(cz_pid "$name"); then
    printf '%-8s running  pid %s\n' "$name" "$pid"
  else
    printf '%-8s stopped  (stale pid file)\n' "$name"
  fi
done
if [[ "${1:-}" == "--check" ]]; then
  exit "$all"
fi
