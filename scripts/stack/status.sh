#!/usr/bin/env bash
# Print running/stopped for each stack component (the services: scripts/services/status.sh).
# Exit 0 unless --check is given: then exit 1 if mariadb, kafka or minio is stopped.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../lib
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
here="$(dirname "${BASH_SOURCE[0]}")"

all=0
for c in mariadb kafka minio; do
  bash "$here/$c.sh" status || all=1
done
if [[ "${1:-}" == "--check" ]]; then
  exit "$all"
fi
