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
# Debian's Chromium drives the console tests (playwright-core never downloads a browser here);
# the CJK fonts make Chinese render in screenshots.
cz_step "install chromium"
# (grep reads all of fc-list's output: an early exit would fail the pipe under pipefail)
if ! command -v chromium >/dev/null 2>&1 || [[ -z "$(fc-list 2>/dev/null | grep -i 'noto sans cjk')" ]]; then
  cz_apt_install chromium fonts-noto-cjk
fi
# Debian's ffmpeg makes AMR call recordings and WeCom voice messages playable in browsers (the
# recordings service transcodes them to MP3 on first playback and keeps the result sealed).
cz_step "install ffmpeg"
if ! command -v ffmpeg >/dev/null 2>&1; then
  cz_apt_install ffmpeg
fi
# Debian's OpenSSL 3 CLI is the independent implementation the SM2/SM3 cross-check in
# services/common/test/crypto/sm2.test.ts signs and verifies with (that test fails without it).
cz_step "install openssl"
if ! command -v openssl >/dev/null 2>&1; then
  cz_apt_install openssl
fi
