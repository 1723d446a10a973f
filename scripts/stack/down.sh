#!/usr/bin/env bash
# Stop every process of the local stack that up.sh started (by pid file, whole process
# group: TERM, then KILL after a grace period). Data under .stack/ is kept.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../lib
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
here="$(dirname "${BASH_SOURCE[0]}")"

cz_lock
rc=0
for c in minio kafka mariadb; do
  cz_step "stop $c"
  bash "$here/$c.sh" stop || rc=1
done
((rc == 0)) || die "some component failed to stop"
log "stack down"
