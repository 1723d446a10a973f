#!/usr/bin/env bash
# The local stack's own certificate authority and certificates (openssl), for TLS on every hop.
#   tls.sh [DIR]     (default: .stack/tls)
# Idempotent: creates what is missing and re-issues a certificate that expires within 30 days or
# no longer chains to the CA (a new CA re-issues everything). Prints nothing when all is current.
#
#   DIR/ca.crt, ca.key                  the dev CA (EC P-256, 10 years)
#   DIR/server/NAME.crt, NAME.key       server certificates for 127.0.0.1 / localhost (SAN
#                                       IP:127.0.0.1, IP:::1, DNS:localhost): mariadb, kafka, minio
#                                       and every service; kafka's also authenticates as a client
#                                       (its own inter-broker connections and the stack's Kafka CLI)
#   DIR/clients/NAME.crt, NAME.key      client certificates for mutual TLS, CN = the caller's name
#   DIR/kafka/keystore.pem              kafka's key + certificate chain (Kafka's PEM key store)
#   DIR/minio/                          MinIO's --certs-dir (public.crt, private.key, CAs/ca.crt)
#
# TLS 1.3 (minimum 1.2) with ECDSA P-256 certificates. SM2 certificates would need TLCP (GB/T
# 38636) cipher suites, which Node's OpenSSL 3.0 does not offer (tls.getCiphers() lists no SM
# suite), so Node could neither serve nor verify them. Private keys are 0600.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../lib
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

TLS_DIR="${1:-$CZ_TLS_DIR}"
TLS_SERVERS=(mariadb kafka minio keyservice ingest archiver recordings compliance portal puller)
TLS_CLIENTS=(ingest archiver recordings portal puller compliance dev)
TLS_CA_DAYS=3650
TLS_LEAF_DAYS=825
# re-issue a certificate this close to its end (seconds)
TLS_RENEW_BEFORE=$((30 * 24 * 3600))
TLS_ORG="Cunzheng local stack"

cz_need_cmd openssl "apt-get install openssl"

tls_new_key() {
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.tmp" 2>/dev/null)
  chmod 600 "$1.tmp"
  mv -f "$1.tmp" "$1"
}

tls_serial() {
  printf '0x%s' "$(openssl rand -hex 16)"
}

# 0 if the CA exists and stays valid for a while
tls_ca_ok() {
  [[ -s "$TLS_DIR/ca.key" && -s "$TLS_DIR/ca.crt" ]] &&
    openssl x509 -in "$TLS_DIR/ca.crt" -noout -checkend "$TLS_RENEW_BEFORE" >/dev/null 2>&1
}

tls_ca() {
  tls_ca_ok && return 0
  log "tls: creating the local stack's CA in $TLS_DIR"
  tls_new_key "$TLS_DIR/ca.key"
  openssl req -new -x509 -key "$TLS_DIR/ca.key" -sha256 -days "$TLS_CA_DAYS" -set_serial "$(tls_serial)" \
    -subj "/O=$TLS_ORG/CN=Cunzheng local stack CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$TLS_DIR/ca.crt.tmp"
  mv -f "$TLS_DIR/ca.crt.tmp" "$TLS_DIR/ca.crt"
}

# 0 if CERT exists, chains to the current CA and does not expire soon
tls_leaf_ok() {
  local cert=$1 key=$2
  [[ -s "$cert" && -s "$key" ]] || return 1
  openssl x509 -in "$cert" -noout -checkend "$TLS_RENEW_BEFORE" >/dev/null 2>&1 || return 1
  openssl verify -CAfile "$TLS_DIR/ca.crt" "$cert" >/dev/null 2>&1
}

# tls_leaf DIR NAME SUBJECT EXTENSIONS
tls_leaf() {
  local dir=$1 name=$2 subject=$3 extensions=$4
  local cert="$dir/$name.crt" key="$dir/$name.key" csr="$dir/$name.csr"
  mkdir -p "$dir"
  tls_leaf_ok "$cert" "$key" && return 0
  log "tls: issuing $(basename "$dir")/$name"
  tls_new_key "$key"
  openssl req -new -key "$key" -subj "$subject" -out "$csr"
  openssl x509 -req -in "$csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca.key" -sha256 \
    -days "$TLS_LEAF_DAYS" -set_serial "$(tls_serial)" -extfile <(printf '%s\n' "$extensions") \
    -out "$cert.tmp" 2>/dev/null
  rm -f "$csr"
  mv -f "$cert.tmp" "$cert"
}

tls_server() {
  local name=$1 usage=serverAuth
  # kafka's broker connects to its own listener (and the stack's Kafka CLI uses its key store)
  [[ "$name" == kafka ]] && usage=serverAuth,clientAuth
  tls_leaf "$TLS_DIR/server" "$name" "/O=$TLS_ORG/OU=server/CN=$name" "$(
    printf '%s\n' \
      'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature' \
      "extendedKeyUsage=$usage" \
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost' \
      'authorityKeyIdentifier=keyid'
  )"
}

tls_client() {
  tls_leaf "$TLS_DIR/clients" "$1" "/O=$TLS_ORG/OU=caller/CN=$1" "$(
    printf '%s\n' \
      'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature' \
      'extendedKeyUsage=clientAuth' \
      'authorityKeyIdentifier=keyid'
  )"
}

# copy SRC to DEST (mode MODE) unless DEST already has the same bytes
tls_install_copy() {
  local src=$1 dest=$2 mode=$3
  if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then
    return 0
  fi
  (umask 077 && cat "$src" >"$dest.tmp")
  chmod "$mode" "$dest.tmp"
  mv -f "$dest.tmp" "$dest"
}

tls_kafka_keystore() {
  mkdir -p "$TLS_DIR/kafka"
  # Kafka's PEM key store: the PKCS#8 private key, then the certificate chain
  cat "$TLS_DIR/server/kafka.key" "$TLS_DIR/server/kafka.crt" "$TLS_DIR/ca.crt" >"$TLS_DIR/kafka/keystore.pem.new"
  tls_install_copy "$TLS_DIR/kafka/keystore.pem.new" "$TLS_DIR/kafka/keystore.pem" 600
  rm -f "$TLS_DIR/kafka/keystore.pem.new"
}

tls_minio_certs_dir() {
  mkdir -p "$TLS_DIR/minio/CAs"
  tls_install_copy "$TLS_DIR/server/minio.crt" "$TLS_DIR/minio/public.crt" 644
  tls_install_copy "$TLS_DIR/server/minio.key" "$TLS_DIR/minio/private.key" 600
  tls_install_copy "$TLS_DIR/ca.crt" "$TLS_DIR/minio/CAs/ca.crt" 644
}

cz_step "tls certificates"
mkdir -p "$TLS_DIR"
chmod 700 "$TLS_DIR"
tls_ca
for name in "${TLS_SERVERS[@]}"; do
  tls_server "$name"
done
for name in "${TLS_CLIENTS[@]}"; do
  tls_client "$name"
done
tls_kafka_keystore
tls_minio_certs_dir
