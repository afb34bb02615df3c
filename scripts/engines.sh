#!/usr/bin/env bash
# Local engines for GreenLane tests and CI: Redis, PostgreSQL and a single-node Kafka (KRaft).
#
#   scripts/engines.sh start  [redis|postgres|kafka|all]   install if missing, start if down, wait until ready
#   scripts/engines.sh install [redis|postgres|kafka|all]  only install packages / fetch Kafka jars (no start)
#   scripts/engines.sh check  [redis|postgres|kafka|all]   one line per engine; non-zero if any is down
#   scripts/engines.sh status [...]                        same as check
#   scripts/engines.sh stop   [kafka|redis|postgres|all]   default: kafka only (redis/postgres only when named)
#   scripts/engines.sh reset  kafka                        stop Kafka and delete its data (reformat on next start)
#   scripts/engines.sh env                                 print `export GREENLANE_...` lines for the tests
#   scripts/engines.sh start|stop|check clusters           also: kafka-cluster (3 brokers, KRaft, RF 3, min ISR 2,
#                                                          ports 29092-29094) and redis-cluster (3 masters + 3
#                                                          replicas, ports 7001-7006); never part of `all`
#   scripts/engines.sh reset redis-cluster|kafka-cluster   stop it and delete its data and cluster config
#   scripts/engines.sh pid kafka-cluster N | redis-cluster PORT   the process id (the cluster test kills it)
#   scripts/engines.sh logs                                print where the engine logs are
#   scripts/engines.sh kafka-class <main-class> [args...]  run a Kafka tool class from the cached jars, e.g.
#       scripts/engines.sh kafka-class org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:19092 --list
#
# Everything Kafka (jars, data, logs) lives in ${GREENLANE_ENGINES_DIR:-$HOME/.cache/greenlane-engines}.
# Kafka jars come from Maven Central via scripts/kafka/pom.xml (Kafka 3.9.x: kafkajs 2.2.4 needs the
# old protocol versions that Kafka 4 removed). Redis and PostgreSQL are the Debian packages.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENGINES_DIR="${GREENLANE_ENGINES_DIR:-${HOME:-/root}/.cache/greenlane-engines}"

REDIS_HOST=127.0.0.1
REDIS_PORT=6379
PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=greenlane
PG_PASSWORD=greenlane_password
PG_DB=greenlane
KAFKA_HOST=127.0.0.1
KAFKA_PORT=19092
KAFKA_CONTROLLER_PORT=19093
KAFKA_CLUSTER_ID="R3JlZW5MYW5lS2Fma2EwMQ" # base64url("GreenLaneKafka01"), fixed so re-runs reuse the data dir
KAFKA_HEAP="${GREENLANE_KAFKA_HEAP:--Xms128m -Xmx512m}"
KAFKA_READY_TIMEOUT="${GREENLANE_KAFKA_READY_TIMEOUT:-90}"

KAFKA_POM="$SCRIPT_DIR/kafka/pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM" | head -n1)"
KAFKA_HOME="$ENGINES_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_LOG="$KAFKA_HOME/kafka.log"
KAFKA_PID="$KAFKA_HOME/kafka.pid"
KAFKA_PROPS="$KAFKA_HOME/server.properties"
KAFKA_LOG4J="$KAFKA_HOME/log4j.properties"
KAFKA_TOOLS_LOG4J="$KAFKA_HOME/tools-log4j.properties"

REDIS_LOG_DEFAULT=/var/log/redis/ci.log

REDIS_URL="redis://$REDIS_HOST:$REDIS_PORT"
DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/$PG_DB"
KAFKA_BROKERS="$KAFKA_HOST:$KAFKA_PORT"

# ---------------------------------------------------------------------------------------------- helpers

log() { printf '[engines] %s\n' "$*" >&2; }
die() { printf '[engines] ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# tcp_open HOST PORT: true when something accepts connections there.
tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

APT_UPDATED=0
apt_install() { # apt_install PKG...: install the Debian packages (apt-get update at most once per run)
  is_root || die "need root to install Debian packages: $*"
  command -v apt-get >/dev/null || die "apt-get not found; install manually: $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  apt-get install -y -qq --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}

# with_lock NAME CMD...: serialise concurrent starts/stops (several worktrees may share the cache dir).
with_lock() {
  local name="$1"; shift
  mkdir -p "$ENGINES_DIR"
  if command -v flock >/dev/null; then
    (
      exec 9>"$ENGINES_DIR/.$name.lock"
      flock -w 300 9 || die "timed out waiting for lock $ENGINES_DIR/.$name.lock"
      "$@"
    )
  else
    "$@"
  fi
}

# -------------------------------------------------------------------------------------------------- redis

redis_ping() {
  if command -v redis-cli >/dev/null; then
    [ "$(timeout 3 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
  else
    timeout 3 bash -c "exec 3<>/dev/tcp/$REDIS_HOST/$REDIS_PORT; printf 'PING\r\n' >&3; read -r r <&3; [ \"\${r%\$'\r'}\" = '+PONG' ]" 2>/dev/null
  fi
}

redis_start() {
  if redis_ping; then log "redis: already up at $REDIS_URL"; return 0; fi
  command -v redis-server >/dev/null || apt_install redis-server
  local dir=/var/lib/redis logfile="$REDIS_LOG_DEFAULT"
  if ! is_root; then dir="$ENGINES_DIR/redis"; logfile="$dir/redis.log"; fi
  mkdir -p "$dir" "$(dirname "$logfile")"
  log "redis: starting (log: $logfile)"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$dir" --logfile "$logfile" >&2 9>&- \
    || { [ -f "$logfile" ] && tail -n 20 "$logfile" >&2; die "redis-server failed to start (log: $logfile)"; }
  for _ in $(seq 1 100); do
    if redis_ping; then log "redis: up at $REDIS_URL"; return 0; fi
    sleep 0.2
  done
  [ -f "$logfile" ] && tail -n 20 "$logfile" >&2
  die "redis did not answer PING within 20s (log: $logfile)"
}

redis_stop() {
  if ! redis_ping; then log "redis: not running"; return 0; fi
  log "redis: shutting down"
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  for _ in $(seq 1 50); do redis_ping || { log "redis: stopped"; return 0; }; sleep 0.2; done
  die "redis still answering after shutdown"
}

redis_check() {
  if redis_ping; then echo "redis     up    $REDIS_URL"; else echo "redis     down  $REDIS_URL"; return 1; fi
}

# ----------------------------------------------------------------------------------------------- postgres

# pg_cluster: prints "VERSION NAME PORT STATUS" of the cluster to use (the one on $PG_PORT, else the first).
pg_cluster() {
  command -v pg_lsclusters >/dev/null || return 1
  local lines
  lines="$(pg_lsclusters -h 2>/dev/null | awk '{print $1, $2, $3, $4}')" || return 1
  [ -n "$lines" ] || return 1
  awk -v p="$PG_PORT" '$3 == p {print; found=1; exit} END {exit !found}' <<<"$lines" || head -n1 <<<"$lines"
}

pg_ready() { command -v pg_isready >/dev/null && pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2; }

# Run SQL as the postgres superuser (peer auth over the local socket when root, TCP otherwise).
pg_super() {
  if is_root; then
    (cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@")
  else
    psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres "$@"
  fi
}

pg_app_login() {
  PGCONNECT_TIMEOUT=3 psql -X -q -At "$DATABASE_URL" -c 'select 1' 2>/dev/null | grep -qx 1
}

pg_start() {
  if ! command -v pg_ctlcluster >/dev/null || ! pg_cluster >/dev/null; then
    if ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
    if ! pg_cluster >/dev/null; then
      local ver
      ver="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n1)"
      [ -n "$ver" ] || die "postgresql installed but no server version under /usr/lib/postgresql"
      log "postgres: creating cluster $ver/main on port $PG_PORT"
      pg_createcluster "$ver" main -p "$PG_PORT" >&2
    fi
  fi
  local ver name port status
  read -r ver name port status <<<"$(pg_cluster)"
  if [ "$port" != "$PG_PORT" ]; then
    # e.g. the package was installed while something else held 5432, so pg_createcluster chose 5433.
    if [ "$status" = online ] || tcp_open "$PG_HOST" "$PG_PORT"; then
      die "postgres cluster $ver/$name is on port $port and $PG_HOST:$PG_PORT is taken; expected it on $PG_PORT"
    fi
    log "postgres: moving cluster $ver/$name from port $port to $PG_PORT"
    pg_conftool "$ver" "$name" set port "$PG_PORT" >&2
    port="$PG_PORT"
  fi
  if [ "$status" != online ] || ! pg_ready; then
    log "postgres: starting cluster $ver/$name (log: /var/log/postgresql/postgresql-$ver-$name.log)"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >&2 9>&- || true
  fi
  for _ in $(seq 1 60); do pg_ready && break; sleep 0.5; done
  if ! pg_ready; then
    tail -n 20 "/var/log/postgresql/postgresql-$ver-$name.log" >&2 2>/dev/null || true
    die "postgres not accepting connections on $PG_HOST:$PG_PORT after 30s (log: /var/log/postgresql/postgresql-$ver-$name.log)"
  fi

  # Role and database, idempotently (safe if two runs race: duplicates are swallowed, then re-checked).
  pg_super >&2 <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') THEN
    BEGIN
      CREATE ROLE $PG_USER LOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
END
\$\$;
ALTER ROLE $PG_USER WITH LOGIN CREATEDB SUPERUSER PASSWORD '$PG_PASSWORD';
SQL
  if [ "$(pg_super -At -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
    log "postgres: creating database $PG_DB"
    pg_super -c "CREATE DATABASE $PG_DB OWNER $PG_USER" >&2 \
      || [ "$(pg_super -At -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" = 1 ] \
      || die "could not create database $PG_DB"
  fi
  pg_super -c "ALTER DATABASE $PG_DB OWNER TO $PG_USER" >&2

  # Password login over 127.0.0.1 must work; add a pg_hba rule if the cluster refuses it.
  if ! pg_app_login; then
    local hba
    hba="$(pg_super -At -c 'SHOW hba_file')"
    log "postgres: password login refused; allowing $PG_USER from 127.0.0.1 in $hba"
    local rule="host    all    $PG_USER    127.0.0.1/32    scram-sha-256"
    if ! grep -qF "$rule" "$hba"; then
      { echo "# added by greenlane scripts/engines.sh"; echo "$rule"; cat "$hba"; } >"$hba.greenlane.tmp"
      cat "$hba.greenlane.tmp" >"$hba" && rm -f "$hba.greenlane.tmp"
    fi
    pg_super -c 'SELECT pg_reload_conf()' >/dev/null
    sleep 0.5
    pg_app_login || die "cannot log in as $DATABASE_URL (check $hba)"
  fi
  log "postgres: up at $DATABASE_URL"
}

pg_stop() {
  local ver name port status
  if ! read -r ver name port status <<<"$(pg_cluster 2>/dev/null)" || [ -z "${ver:-}" ]; then
    log "postgres: no cluster found"; return 0
  fi
  if [ "$status" != online ]; then log "postgres: not running"; return 0; fi
  log "postgres: stopping cluster $ver/$name"
  pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" stop >&2
}

pg_check() {
  if pg_ready && pg_app_login; then
    echo "postgres  up    $DATABASE_URL"
  elif pg_ready; then
    echo "postgres  down  $DATABASE_URL (server up, but login as $PG_USER failed: run '$0 start postgres')"; return 1
  else
    echo "postgres  down  $DATABASE_URL"; return 1
  fi
}

# -------------------------------------------------------------------------------------------------- kafka

java_bin() { if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"; else echo java; fi; }

kafka_ensure_java() {
  if ! command -v "$(java_bin)" >/dev/null; then apt_install openjdk-17-jre-headless; fi
}

kafka_fetch_jars() {
  local stamp
  stamp="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
  if [ -f "$KAFKA_LIBS/.complete" ] && [ "$(cat "$KAFKA_LIBS/.complete")" = "$stamp" ]; then return 0; fi
  command -v mvn >/dev/null || apt_install maven
  log "kafka: fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  mkdir -p "$KAFKA_HOME"
  local tmp="$KAFKA_HOME/libs.tmp.$$"
  rm -rf "$tmp"
  if ! mvn -B -Dstyle.color=never -f "$KAFKA_POM" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" >"$KAFKA_HOME/mvn.log" 2>&1; then
    tail -n 30 "$KAFKA_HOME/mvn.log" >&2
    rm -rf "$tmp"; die "mvn could not fetch Kafka jars (is Maven Central reachable? log: $KAFKA_HOME/mvn.log)"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "kafka_2.13 jar missing after mvn"; }
  echo "$stamp" >"$tmp/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DATA"
  cat >"$KAFKA_PROPS" <<EOF
# generated by scripts/engines.sh — single-node KRaft broker+controller for tests
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
default.replication.factor=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=104857600
EOF
  cat >"$KAFKA_LOG4J" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
EOF
  cat >"$KAFKA_TOOLS_LOG4J" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.stderr.Target=System.err
EOF
}

# kafka_pid_alive: true when the pid file names a live kafka.Kafka process.
kafka_pid_alive() {
  [ -f "$KAFKA_PID" ] || return 1
  local pid
  pid="$(cat "$KAFKA_PID" 2>/dev/null)"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka'
}

# kafka_tool CLASS ARGS...: run a Kafka tool class from the cached jars (small, quick-starting JVM).
kafka_tool() {
  local cls="$1"; shift
  "$(java_bin)" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KAFKA_TOOLS_LOG4J" -cp "$KAFKA_LIBS/*" "$cls" "$@"
}

kafka_api_ready() {
  timeout 20 "$(java_bin)" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j.configuration="file:$KAFKA_TOOLS_LOG4J" -cp "$KAFKA_LIBS/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --list >/dev/null 2>&1
}

kafka_fail() {
  log "kafka: $1"
  if [ -f "$KAFKA_LOG" ]; then log "kafka: last lines of $KAFKA_LOG:"; tail -n 40 "$KAFKA_LOG" >&2; fi
  die "kafka did not start (log: $KAFKA_LOG; to wipe its data: $0 reset kafka)"
}

kafka_start_locked() {
  if kafka_pid_alive && tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    log "kafka: already up at $KAFKA_BROKERS (pid $(cat "$KAFKA_PID"), log: $KAFKA_LOG)"; return 0
  fi
  if ! kafka_pid_alive && tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    log "kafka: something not started by this script already listens on $KAFKA_BROKERS; using it as is"
    return 0
  fi
  kafka_ensure_java
  kafka_fetch_jars
  kafka_write_config

  if ! kafka_pid_alive; then
    rm -f "$KAFKA_PID"
    if tcp_open "$KAFKA_HOST" "$KAFKA_CONTROLLER_PORT"; then
      die "port $KAFKA_CONTROLLER_PORT (Kafka controller) is taken by another process"
    fi
    if [ ! -f "$KAFKA_DATA/meta.properties" ]; then
      log "kafka: formatting storage in $KAFKA_DATA (cluster id $KAFKA_CLUSTER_ID)"
      kafka_tool kafka.tools.StorageTool format -t "$KAFKA_CLUSTER_ID" -c "$KAFKA_PROPS" --ignore-formatted >&2 \
        || die "kafka storage format failed"
    fi
    [ -f "$KAFKA_LOG" ] && mv -f "$KAFKA_LOG" "$KAFKA_LOG.1"
    log "kafka: starting Kafka $KAFKA_VERSION on $KAFKA_BROKERS (log: $KAFKA_LOG)"
    # setsid+nohup: the broker outlives this shell and is not hit by the caller's Ctrl-C.
    # shellcheck disable=SC2086
    setsid nohup "$(java_bin)" -server $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$KAFKA_LOG4J" -Dkafka.logs.dir="$KAFKA_HOME" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" >"$KAFKA_LOG" 2>&1 </dev/null 9>&- &
    echo $! >"$KAFKA_PID"
  fi

  local deadline=$((SECONDS + KAFKA_READY_TIMEOUT)) pid
  pid="$(cat "$KAFKA_PID")"
  # Cheap checks first (port open, "Kafka Server started" logged), then one real admin request.
  until tcp_open "$KAFKA_HOST" "$KAFKA_PORT" && { [ ! -f "$KAFKA_LOG" ] || grep -q 'Kafka Server started' "$KAFKA_LOG"; }; do
    kill -0 "$pid" 2>/dev/null || kafka_fail "process $pid exited during startup"
    [ "$SECONDS" -lt "$deadline" ] || kafka_fail "port $KAFKA_PORT not open after ${KAFKA_READY_TIMEOUT}s"
    sleep 0.5
  done
  until kafka_api_ready; do
    kill -0 "$pid" 2>/dev/null || kafka_fail "process $pid exited during startup"
    [ "$SECONDS" -lt "$deadline" ] || kafka_fail "broker not answering admin requests after ${KAFKA_READY_TIMEOUT}s"
    sleep 1
  done
  log "kafka: up at $KAFKA_BROKERS (pid $pid, log: $KAFKA_LOG)"
}

kafka_start() { with_lock kafka kafka_start_locked; }

kafka_stop_locked() {
  if ! kafka_pid_alive; then
    rm -f "$KAFKA_PID"
    if tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; then
      log "kafka: $KAFKA_BROKERS is served by a process this script did not start; leaving it alone"
    else
      log "kafka: not running"
    fi
    return 0
  fi
  local pid
  pid="$(cat "$KAFKA_PID")"
  log "kafka: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$KAFKA_PID"; log "kafka: stopped"; return 0; }
    sleep 0.5
  done
  log "kafka: still running after 30s, killing pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$KAFKA_PID"
}

kafka_stop() { with_lock kafka kafka_stop_locked; }

kafka_reset_locked() {
  kafka_stop_locked
  log "kafka: deleting $KAFKA_DATA"
  rm -rf "$KAFKA_DATA"
}

kafka_check() {
  if tcp_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    local who="not started by this script"
    kafka_pid_alive && who="pid $(cat "$KAFKA_PID")"
    echo "kafka     up    $KAFKA_BROKERS ($who)"
  else
    echo "kafka     down  $KAFKA_BROKERS"; return 1
  fi
}

# shellcheck source=scripts/engines-clusters.sh
. "$SCRIPT_DIR/engines-clusters.sh"

# --------------------------------------------------------------------------------------------------- main

print_env() {
  cat <<EOF
export GREENLANE_KAFKA_BROKERS=$KAFKA_BROKERS
export GREENLANE_REDIS_URL=$REDIS_URL
export GREENLANE_DATABASE_URL=$DATABASE_URL
EOF
  print_cluster_env
}

print_logs() {
  echo "kafka     $KAFKA_LOG"
  if is_root; then echo "redis     $REDIS_LOG_DEFAULT"; else echo "redis     $ENGINES_DIR/redis/redis.log"; fi
  echo "postgres  $(ls /var/log/postgresql/postgresql-*.log 2>/dev/null | head -n1 || echo /var/log/postgresql/)"
}

# engines WHICH DEFAULT: expand the engine argument into a list.
engines() {
  local which="${1:-$2}"
  case "$which" in
    all) echo "redis postgres kafka" ;;
    redis | postgres | kafka | kafka-cluster | redis-cluster) echo "$which" ;;
    clusters) echo "kafka-cluster redis-cluster" ;;
    postgresql | pg) echo postgres ;;
    *) return 1 ;;
  esac
}

# ensure_packages ENGINE...: install every missing Debian package for these engines in one apt run.
ensure_packages() {
  local e pkgs=()
  for e in "$@"; do
    case "$e" in
      redis | redis-cluster) command -v redis-server >/dev/null || pkgs+=(redis-server) ;;
      postgres) command -v pg_ctlcluster >/dev/null || pkgs+=(postgresql) ;;
      kafka | kafka-cluster)
        command -v "$(java_bin)" >/dev/null || pkgs+=(openjdk-17-jre-headless)
        if ! command -v mvn >/dev/null && [ ! -f "$KAFKA_LIBS/.complete" ]; then pkgs+=(maven); fi
        ;;
    esac
  done
  [ "${#pkgs[@]}" -eq 0 ] || apt_install "${pkgs[@]}"
}

usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

main() {
  local cmd="${1:-}"; shift || true
  local e list rc=0
  case "$cmd" in
    start | install | check | status | stop)
      local default=all
      [ "$cmd" = stop ] && default=kafka
      list="$(engines "${1:-}" "$default")" || die "unknown engine '${1:-}' (redis|postgres|kafka|all|kafka-cluster|redis-cluster|clusters)"
      ;;
  esac
  case "$cmd" in
    start)
      # shellcheck disable=SC2086
      ensure_packages $list
      for e in $list; do
        case "$e" in
          redis) with_lock redis redis_start ;; postgres) with_lock postgres pg_start ;; kafka) kafka_start ;;
          kafka-cluster) with_lock kafka-cluster kc_start_locked ;; redis-cluster) with_lock redis-cluster rc_start_locked ;;
        esac
      done
      log "logs:"
      print_logs | sed 's/^/[engines]   /' >&2
      log "env for tests (eval \"\$($0 env)\"):"
      print_env | sed 's/^/[engines]   /' >&2
      ;;
    install)
      # shellcheck disable=SC2086
      ensure_packages $list
      case " $list " in *" kafka "*) with_lock kafka kafka_fetch_jars ;; esac
      log "installed: $list"
      ;;
    check | status)
      for e in $list; do
        case "$e" in
          redis) redis_check || rc=1 ;; postgres) pg_check || rc=1 ;; kafka) kafka_check || rc=1 ;;
          kafka-cluster) kc_check || rc=1 ;; redis-cluster) rc_check || rc=1 ;;
        esac
      done
      return "$rc"
      ;;
    stop)
      for e in $list; do
        case "$e" in
          redis) redis_stop ;; postgres) pg_stop ;; kafka) kafka_stop ;;
          kafka-cluster) with_lock kafka-cluster kc_stop_locked ;; redis-cluster) with_lock redis-cluster rc_stop ;;
        esac
      done
      ;;
    reset)
      case "${1:-}" in
        kafka) with_lock kafka kafka_reset_locked ;;
        kafka-cluster) with_lock kafka-cluster kc_stop_locked; rm -rf "$KC_HOME"; log "kafka-cluster: data deleted" ;;
        redis-cluster) with_lock redis-cluster rc_reset ;;
        *) die "usage: $0 reset kafka|kafka-cluster|redis-cluster" ;;
      esac
      ;;
    pid) cluster_pid "${1:-}" "${2:-}" ;;
    env) print_env ;;
    logs) print_logs ;;
    kafka-class)
      [ $# -ge 1 ] || die "usage: $0 kafka-class <main-class> [args...]"
      ensure_packages kafka
      with_lock kafka kafka_fetch_jars
      [ -f "$KAFKA_TOOLS_LOG4J" ] || kafka_write_config
      kafka_tool "$@"
      ;;
    -h | --help | help) usage 0 ;;
    "") usage ;;
    *) log "unknown command '$cmd'"; usage ;;
  esac
}

main "$@"
