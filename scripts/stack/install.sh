#!/usr/bin/env bash
# Install (if missing) everything the local stack needs, without starting anything:
# curl, MariaDB (apt), the Kafka jars (Maven -> ~/.m2), MinIO (go install -> ~/go/bin).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../lib
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
here="$(dirname "${BASH_SOURCE[0]}")"

cz_lock
cz_step "install curl"
if ! command -v curl >/dev/null 2>&1; then
  cz_apt_install curl ca-certificates
fi
cz_step "install mariadb"
bash "$here/mariadb.sh" install
cz_step "install kafka"
bash "$here/kafka.sh" install
cz_step "install minio"
bash "$here/minio.sh" install
