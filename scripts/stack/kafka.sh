#!/usr/bin/env bash
# Local Apache Kafka for the Cunzheng stack: single-node KRaft (combined broker + controller)
# run from its Maven Central jars, on 127.0.0.1:19092 (controller 127.0.0.1:19093).
# Clients connect with mutual TLS (TLS 1.2+, a client certificate from the stack's CA required;
# scripts/stack/tls.sh), or in plain text only with CZ_INSECURE_DEV=1. Mutual TLS rather than
# SASL/SCRAM: the callers already hold certificates from the CA for the HTTP hops, there is no
# password to store or rotate, and the principal is the certificate's CN (ready for ACLs).
#   kafka.sh install | start | stop | status
# install: resolves deploy/kafka/pom.xml into ~/.m2 and writes .stack/kafka/classpath.txt
#          (re-run only when the pom changed or a jar went missing).
# start:   renders deploy/kafka/server.properties into .stack/kafka, formats the storage once
#          (cluster id in .stack/kafka/cluster.id), starts kafka.Kafka and waits until the
#          broker serves metadata. Topics are created by the services (kafkajs admin). A running
#          broker whose configuration changed (TLS switched on, a certificate re-issued) restarts.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR/../lib
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

KAFKA_PORT=19092
KAFKA_CONTROLLER_PORT=19093
KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_CP_FILE="$KAFKA_DIR/classpath.txt"
KAFKA_CP_SUM="$KAFKA_DIR/classpath.sha256"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
# the stack's Kafka CLI calls (readiness) connect with these client settings
KAFKA_CLIENT_PROPS="$KAFKA_DIR/client.properties"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
KAFKA_LOG="$CZ_LOG_DIR/kafka.log"
KAFKA_DEPLOY="$cz_root/deploy/kafka"
KAFKA_POM="$KAFKA_DEPLOY/pom.xml"
KAFKA_START_TIMEOUT=${CZ_KAFKA_START_TIMEOUT:-90}
KAFKA_HEAP_OPTS=(-Xms256m -Xmx512m)

kafka_pom_sum() {
  sha256sum "$KAFKA_POM" | awk '{ print $1 }'
}

# 0 if classpath.txt matches the current pom and every jar in it still exists
kafka_classpath_ok() {
  [[ -s "$KAFKA_CP_FILE" && -s "$KAFKA_CP_SUM" ]] || return 1
  [[ "$(cat "$KAFKA_CP_SUM")" == "$(kafka_pom_sum)" ]] || return 1
  local jar
  local -a jars
  IFS=: read -r -a jars <"$KAFKA_CP_FILE"
  ((${#jars[@]} > 0)) || return 1
  for jar in "${jars[@]}"; do
    [[ -f "$jar" ]] || return 1
  done
}

kafka_install() {
  cz_step "kafka install (java, maven resolve)"
  if ! command -v java >/dev/null 2>&1; then
    cz_apt_install openjdk-17-jre-headless
  fi
  cz_need_cmd java "Kafka 4 needs a Java 17+ runtime"
  if kafka_classpath_ok; then
    return 0
  fi
  if ! command -v mvn >/dev/null 2>&1; then
    cz_apt_install maven
  fi
  cz_need_cmd mvn "Maven 3 resolves the Kafka jars"
  cz_mkdirs
  mkdir -p "$KAFKA_DIR"
  local mvnlog="$CZ_LOG_DIR/kafka-install.log"
  log "resolving Kafka jars with Maven (deploy/kafka/pom.xml -> ~/.m2; log $mvnlog)"
  if ! mvn -B -q -Dstyle.color=never -f "$KAFKA_POM" dependency:build-classpath \
    -Dmdep.outputFile="$KAFKA_CP_FILE.tmp" >"$mvnlog" 2>&1 </dev/null; then
    cz_tail_log "$mvnlog"
    die "kafka install: mvn dependency:build-classpath failed (Maven Central reachable? ~/.m2 writable?)"
  fi
  [[ -s "$KAFKA_CP_FILE.tmp" ]] || die "kafka install: maven wrote an empty class path"
  mv -f "$KAFKA_CP_FILE.tmp" "$KAFKA_CP_FILE"
  kafka_pom_sum >"$KAFKA_CP_SUM"
  kafka_classpath_ok || die "kafka install: class path lists missing jars"
  log "kafka jars resolved ($(tr ':' '\n' <"$KAFKA_CP_FILE" | grep -c 'kafka_2.13-') kafka_2.13 jar, $(tr ':' '\n' <"$KAFKA_CP_FILE" | wc -l) jars)"
}

# java with the Kafka class path via an @argfile (keeps the ps line short)
kafka_java() {
  local argfile="$KAFKA_DIR/classpath.args"
  if [[ ! -s "$argfile" || "$argfile" -ot "$KAFKA_CP_FILE" ]]; then
    printf -- '-cp\n"%s"\n' "$(cat "$KAFKA_CP_FILE")" >"$argfile.tmp"
    mv -f "$argfile.tmp" "$argfile"
  fi
  java "@$argfile" "$@"
}

# a Kafka CLI class (warnings only, to stderr)
kafka_tool() {
  kafka_java -Xmx256m -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dlog4j2.configurationFile="$KAFKA_DEPLOY/log4j2-tools.properties" "$@"
}

kafka_render_config() {
  cz_step "kafka config"
  mkdir -p "$KAFKA_DATA"
  local protocol=PLAINTEXT
  cz_tls_on && protocol=SSL
  sed -e "s#@KAFKA_DATA_DIR@#$KAFKA_DATA#g" -e "s#@BROKER_PROTOCOL@#$protocol#g" \
    "$KAFKA_DEPLOY/server.properties" >"$KAFKA_PROPS.tmp"
  printf 'security.protocol=%s\n' "$protocol" >"$KAFKA_CLIENT_PROPS.tmp"
  if cz_tls_on; then
    [[ -s "$CZ_TLS_DIR/kafka/keystore.pem" ]] || die "kafka: no key store in $CZ_TLS_DIR (run scripts/stack/tls.sh)"
    # PEM key store (key + chain) and trust store: no JKS/PKCS12 conversion, no store password
    local tls_props
    tls_props=$(
      printf '%s\n' \
        "ssl.keystore.type=PEM" \
        "ssl.keystore.location=$CZ_TLS_DIR/kafka/keystore.pem" \
        "ssl.truststore.type=PEM" \
        "ssl.truststore.location=$CZ_TLS_DIR/ca.crt" \
        "ssl.enabled.protocols=TLSv1.3,TLSv1.2" \
        "ssl.endpoint.identification.algorithm=https"
    )
    {
      printf '\n# mutual TLS on the BROKER listener (written by scripts/stack/kafka.sh)\n%s\n' "$tls_props"
      printf '%s\n' "ssl.client.auth=required" \
        'ssl.principal.mapping.rules=RULE:^.*CN=([^,]+).*$/$1/,DEFAULT'
    } >>"$KAFKA_PROPS.tmp"
    printf '%s\n' "$tls_props" >>"$KAFKA_CLIENT_PROPS.tmp"
  fi
  mv -f "$KAFKA_PROPS.tmp" "$KAFKA_PROPS"
  mv -f "$KAFKA_CLIENT_PROPS.tmp" "$KAFKA_CLIENT_PROPS"
}

# the configuration the broker runs with: server.properties and, with TLS, its key and trust stores
kafka_config_digest() {
  local files=("$KAFKA_PROPS")
  if cz_tls_on; then
    files+=("$CZ_TLS_DIR/kafka/keystore.pem" "$CZ_TLS_DIR/ca.crt")
  fi
  cz_digest "${files[@]}"
}

kafka_format() {
  cz_step "kafka format storage"
  if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
    return 0
  fi
  if [[ ! -s "$KAFKA_CLUSTER_ID_FILE" ]]; then
    kafka_tool kafka.tools.StorageTool random-uuid >"$KAFKA_CLUSTER_ID_FILE.tmp"
    mv -f "$KAFKA_CLUSTER_ID_FILE.tmp" "$KAFKA_CLUSTER_ID_FILE"
  fi
  local cid out
  cid=$(tr -d '[:space:]' <"$KAFKA_CLUSTER_ID_FILE")
  log "formatting Kafka storage $KAFKA_DATA (cluster id $cid)"
  # Kafka 4 dynamic quorum (controller.quorum.bootstrap.servers): a lone controller must be
  # formatted with --standalone (without it: "you must specify one of the following:
  # --standalone, --initial-controllers, or --no-initial-controllers").
  if ! out=$(kafka_tool kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_PROPS" --standalone 2>&1); then
    printf '%s\n' "$out" >&2
    die "kafka: StorageTool format failed"
  fi
  printf '%s\n' "$out" >>"$KAFKA_LOG"
}

kafka_wait_ready() {
  cz_step "kafka wait ready"
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) out
  cz_wait_port "$KAFKA_PORT" "$KAFKA_START_TIMEOUT" kafka "$KAFKA_LOG"
  # the port opens before the broker has caught up with the metadata log: ask for metadata
  until out=$(kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" \
    --command-config "$KAFKA_CLIENT_PROPS" --list 2>&1); do
    if ! cz_running kafka; then
      cz_tail_log "$KAFKA_LOG"
      die "kafka exited during start-up"
    fi
    if ((SECONDS >= deadline)); then
      printf '%s\n' "$out" | tail -n 10 >&2
      cz_tail_log "$KAFKA_LOG"
      die "kafka: broker on $KAFKA_BOOTSTRAP does not serve metadata after ${KAFKA_START_TIMEOUT}s"
    fi
    sleep 1
  done
}

kafka_start() {
  local pid digest
  kafka_render_config
  digest=$(kafka_config_digest)
  if cz_running kafka && cz_config_changed kafka "$digest"; then
    log "kafka: configuration changed (TLS, certificates or server.properties): restarting it"
    kafka_stop
  fi
  if pid=$(cz_pid kafka) && cz_port_open "$KAFKA_PORT"; then
    log "kafka already running (pid $pid)"
    return 0
  fi
  kafka_install
  if ! cz_running kafka; then
    cz_step "kafka start"
    cz_port_free_or_die "$KAFKA_PORT" kafka
    cz_port_free_or_die "$KAFKA_CONTROLLER_PORT" kafka
    kafka_format
    cz_step "kafka start"
    local argfile="$KAFKA_DIR/classpath.args"
    kafka_java -version >/dev/null 2>&1 || die "kafka: java does not run"
    cz_start kafka "$KAFKA_LOG" java "@$argfile" "${KAFKA_HEAP_OPTS[@]}" \
      -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$KAFKA_DEPLOY/log4j2.properties" \
      -Dkafka.logs.dir="$CZ_LOG_DIR" \
      kafka.Kafka "$KAFKA_PROPS"
    cz_config_record kafka "$digest"
  fi
  kafka_wait_ready
}

kafka_stop() {
  cz_step "kafka stop"
  cz_stop kafka 20
}

kafka_status() {
  local pid
  if pid=$(cz_pid kafka); then
    echo "kafka    running  pid $pid  $KAFKA_BOOTSTRAP"
  else
    echo "kafka    stopped"
    return 1
  fi
}

case "${1:-}" in
  install) kafka_install ;;
  start) kafka_start ;;
  stop) kafka_stop ;;
  restart) kafka_stop && kafka_start ;;
  status) if kafka_status; then exit 0; else exit 3; fi ;;
  *) die "usage: $0 install|start|stop|restart|status" ;;
esac
