#!/usr/bin/env bash
# A 3-node MariaDB Galera cluster on this machine, for tests and trials
# (docs/galera.md).
#
#   scripts/galera.sh up        # start it; returns once all three are Synced
#   scripts/galera.sh status    # each node's pid and wsrep state
#   scripts/galera.sh kill N    # SIGKILL node N's server (1, 2 or 3)
#   scripts/galera.sh start N   # restart node N; returns once it is Synced
#   scripts/galera.sh down      # stop the servers it started, remove the data
#
# Node N serves SQL on 127.0.0.1:331N (user root, no password), group
# communication on 127.0.0.1:451N, incremental state transfer on 452N and
# rsync state transfer on 453N. Its data, socket, log and configuration
# live under a temporary directory; the state file ($STOCKWATCH_GALERA_STATE,
# default /tmp/stockwatch-galera.state) records that directory and the pids,
# so that `down` stops exactly the processes that `up` and `start` started.
# Any MariaDB already on the machine (such as Debian's on 3306) is left
# alone: the nodes read only their own configuration file.
#
# It installs galera-4 and rsync from Debian when they are missing.
set -euo pipefail

state="${STOCKWATCH_GALERA_STATE:-${TMPDIR:-/tmp}/stockwatch-galera.state}"
nodes=(1 2 3)
wait_secs="${STOCKWATCH_GALERA_WAIT:-180}"
provider=/usr/lib/galera/libgalera_smm.so

log() { printf 'galera: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

sql_port() { echo $((3310 + $1)); }
gcomm_port() { echo $((4510 + $1)); }

install_missing() {
  local missing=()
  [ -e "$provider" ] || missing+=(galera-4)
  command -v rsync >/dev/null || missing+=(rsync)
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  # The rsync state transfer script looks for a free port with one of these.
  command -v ss >/dev/null || command -v lsof >/dev/null || missing+=(iproute2)
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
  log "installing ${missing[*]}"
  apt-get update -qq
  # No service of its own: mariadb-server's postinst would start one.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# run_as: the account the servers run as when started by root. Root's
# rsync state transfer daemon would write as nobody, so the servers run as
# Debian's mysql account and own their data; anyone else runs them as
# themselves.
run_as() {
  if [ "$(id -u)" -eq 0 ]; then
    id mysql >/dev/null 2>&1 && echo mysql || echo root
  fi
}

mariadbd_bin() { command -v mariadbd || echo /usr/sbin/mariadbd; }

# write_cnf N DIR: node N's configuration file, the only one it reads.
write_cnf() {
  local n=$1 dir=$2 peers="" m
  for m in "${nodes[@]}"; do peers+="${peers:+,}127.0.0.1:$(gcomm_port "$m")"; done
  local user_line=""
  [ -n "$(run_as)" ] && user_line="user = $(run_as)"
  cat >"$dir/node$n.cnf" <<EOF
[mysqld]
$user_line
datadir = $dir/node$n/data
socket = $dir/node$n/mysqld.sock
pid-file = $dir/node$n/mysqld.pid
log-error = $dir/node$n/error.log
port = $(sql_port "$n")
bind-address = 127.0.0.1
performance_schema = OFF
innodb_buffer_pool_size = 64M
innodb_log_file_size = 48M
innodb_flush_log_at_trx_commit = 2
max_connections = 300
# Galera: row-based replication, interleaved auto-increment locks, InnoDB.
binlog_format = ROW
default_storage_engine = InnoDB
innodb_autoinc_lock_mode = 2
wsrep_on = ON
wsrep_provider = $provider
wsrep_cluster_name = stockwatch
wsrep_cluster_address = gcomm://$peers
wsrep_node_name = node$n
wsrep_node_address = 127.0.0.1:$(gcomm_port "$n")
wsrep_provider_options = "gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$((4520 + n));gcache.size=128M"
wsrep_sst_method = rsync
wsrep_sst_receive_address = 127.0.0.1:$((4530 + n))
wsrep_slave_threads = 2
# Refuse what Galera replicates badly: tables without a primary key, and
# statements on tables of other engines or LOCK TABLES.
wsrep_mode = REQUIRED_PRIMARY_KEY,STRICT_REPLICATION
EOF
}

load_state() {
  [ -f "$state" ] || die "no cluster: $state is missing (run: $0 up)"
  # shellcheck disable=SC1090
  . "$state"
  [ -n "${GALERA_DIR:-}" ] && [ -d "$GALERA_DIR" ] || die "$state names no data directory"
}

save_state() {
  local tmp="$state.tmp"
  {
    echo "GALERA_DIR=$GALERA_DIR"
    for n in "${nodes[@]}"; do
      local v="PID$n"
      echo "PID$n=${!v:-}"
    done
  } >"$tmp"
  mv "$tmp" "$state"
}

# alive PID: the process exists, is a mariadbd started with one of this
# cluster's configuration files (a recycled pid is not ours), and has not
# exited (a zombie whose parent has not reaped it yet).
alive() {
  local pid=$1 stat
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = mariadbd ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--defaults-file=$GALERA_DIR/node" || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

node_pid() { local v="PID$1"; echo "${!v:-}"; }

client() {
  local n=$1
  shift
  mariadb --no-defaults -uroot --socket="$GALERA_DIR/node$n/mysqld.sock" --connect-timeout=2 -N -B "$@"
}

wsrep_state() { client "$1" -e "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | cut -f2; }

# launch N [extra flags]: start node N's server in the background.
launch() {
  local n=$1
  shift
  local dir="$GALERA_DIR/node$n"
  rm -f "$dir/mysqld.pid"
  setsid "$(mariadbd_bin)" --defaults-file="$GALERA_DIR/node$n.cnf" "$@" </dev/null >>"$dir/stdout.log" 2>&1 &
  local pid=$!
  printf -v "PID$n" '%s' "$pid"
  save_state
  # setsid execs mariadbd in place: wait for the name to change.
  for _ in $(seq 40); do alive "$pid" && return 0; sleep 0.05; done
  alive "$pid" || die "node $n (pid $pid) did not start: see $dir/stdout.log"
}

# wait_synced N: until node N says Synced; fails if its server exits.
wait_synced() {
  local n=$1 pid s=""
  pid=$(node_pid "$n")
  for _ in $(seq $((wait_secs * 4))); do
    alive "$pid" || { tail -n 30 "$GALERA_DIR/node$n/error.log" >&2 || true; die "node $n (pid $pid) exited before it was Synced"; }
    s=$(wsrep_state "$n" || true)
    [ "$s" = Synced ] && return 0
    sleep 0.25
  done
  tail -n 30 "$GALERA_DIR/node$n/error.log" >&2 || true
  die "node $n not Synced after ${wait_secs}s (state: ${s:-no answer})"
}

cmd_up() {
  if [ -f "$state" ]; then
    load_state
    local running=0
    for n in "${nodes[@]}"; do alive "$(node_pid "$n")" && running=$((running + 1)); done
    if [ "$running" -eq ${#nodes[@]} ]; then
      for n in "${nodes[@]}"; do wait_synced "$n"; done
      log "already up ($GALERA_DIR)"
      return 0
    fi
    die "a cluster from $state is partly running ($running of ${#nodes[@]} nodes): run $0 down first"
  fi
  install_missing
  local t0=$SECONDS
  GALERA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/stockwatch-galera.XXXXXX")
  chmod 755 "$GALERA_DIR"
  save_state
  for n in "${nodes[@]}"; do
    mkdir -p "$GALERA_DIR/node$n/data"
    write_cnf "$n" "$GALERA_DIR"
  done
  [ -n "$(run_as)" ] && chown -R "$(run_as)" "$GALERA_DIR"
  # Only node 1 needs system tables: the others receive node 1's data by
  # state transfer when they join.
  mariadb-install-db --defaults-file="$GALERA_DIR/node1.cnf" --auth-root-authentication-method=normal \
    --skip-test-db >"$GALERA_DIR/node1/install.log" 2>&1 ||
    { cat "$GALERA_DIR/node1/install.log" >&2; die "mariadb-install-db failed"; }
  launch 1 --wsrep-new-cluster
  wait_synced 1
  # root over TCP from 127.0.0.1 without a password, as the tests connect
  # (replicated to the other nodes with the rest of the data).
  client 1 -e "CREATE USER IF NOT EXISTS root@'127.0.0.1'; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;"
  launch 2
  wait_synced 2
  launch 3
  wait_synced 3
  log "up in $((SECONDS - t0))s: 127.0.0.1:3311, 127.0.0.1:3312, 127.0.0.1:3313 ($GALERA_DIR)"
}

cmd_status() {
  load_state
  local n pid s size
  for n in "${nodes[@]}"; do
    pid=$(node_pid "$n")
    if alive "$pid"; then
      s=$(wsrep_state "$n" || true)
      size=$(client "$n" -e "SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'" 2>/dev/null | cut -f2 || true)
      echo "node $n 127.0.0.1:$(sql_port "$n") pid $pid ${s:-no answer} cluster_size ${size:-?}"
    else
      echo "node $n 127.0.0.1:$(sql_port "$n") down"
    fi
  done
}

node_arg() {
  case "${1:-}" in
  1 | 2 | 3) ;;
  *) die "want a node number 1, 2 or 3, got \"${1:-}\"" ;;
  esac
}

cmd_kill() {
  node_arg "${1:-}"
  load_state
  local n=$1 pid
  pid=$(node_pid "$n")
  alive "$pid" || die "node $n is not running"
  kill -KILL "$pid"
  for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
  log "node $n (pid $pid) killed"
}

cmd_start() {
  node_arg "${1:-}"
  load_state
  local n=$1 t0=$SECONDS m others=0
  alive "$(node_pid "$n")" && { wait_synced "$n"; log "node $n already running"; return 0; }
  for m in "${nodes[@]}"; do [ "$m" != "$n" ] && alive "$(node_pid "$m")" && others=$((others + 1)); done
  # With no node left to join, this one starts the cluster again from its
  # own data (it must be the last one that stopped).
  if [ "$others" -eq 0 ]; then
    sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$GALERA_DIR/node$n/data/grastate.dat" 2>/dev/null || true
    launch "$n" --wsrep-new-cluster
  else
    launch "$n"
  fi
  wait_synced "$n"
  log "node $n Synced in $((SECONDS - t0))s"
}

cmd_down() {
  [ -f "$state" ] || { log "not running (no $state)"; return 0; }
  # shellcheck disable=SC1090
  . "$state"
  local n pid
  for n in "${nodes[@]}"; do
    pid=$(node_pid "$n")
    alive "$pid" && kill -TERM "$pid"
  done
  for n in "${nodes[@]}"; do
    pid=$(node_pid "$n")
    for _ in $(seq 120); do alive "$pid" || break; sleep 0.25; done
    if alive "$pid"; then
      log "node $n (pid $pid) did not stop in 30s: SIGKILL"
      kill -KILL "$pid"
    fi
  done
  if [ -n "${GALERA_DIR:-}" ] && [ -d "$GALERA_DIR" ]; then rm -rf "$GALERA_DIR"; fi
  rm -f "$state"
  log "down"
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
kill) cmd_kill "${2:-}" ;;
start) cmd_start "${2:-}" ;;
*)
  echo "usage: $0 up|down|status|kill N|start N" >&2
  exit 2
  ;;
esac
