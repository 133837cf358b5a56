#!/usr/bin/env bash
# A one-node Slurm cluster on this machine (munged, slurmctld, slurmd as plain daemons, no systemd,
# no cgroups), for the --slurm tests and for trying `valemb run --slurm` by hand. Needs root and
# scripts/setup/slurm.sh. FINDINGS §9 has the settings and why.
#
#   scripts/slurm-cluster.sh start [PIDFILE]   fresh controller state, start, wait for an idle node,
#                                              write "pid name" of each daemon it started to PIDFILE
#   scripts/slurm-cluster.sh stop [PIDFILE]    cancel the cluster's jobs, stop exactly the daemons listed in PIDFILE
#   scripts/slurm-cluster.sh status            sinfo and squeue
set -euo pipefail

BASE=/var/spool/valemb-slurm
PIDS=${2:-$BASE/started.pids}
CONF=/etc/slurm/slurm.conf
MARK="# written by valemb scripts/slurm-cluster.sh"
WAIT_S=${WAIT_S:-60}

say() { echo "slurm-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

# pid_of PIDFILE NAME: the pid in PIDFILE if that process is alive and is NAME.
pid_of() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(tr -dc '0-9' < "$1")
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && echo "$pid"
}

stop_listed() {
  [ -s "$PIDS" ] || { say "no daemons listed in $PIDS: nothing to stop"; return 0; }
  local pid name i
  # Job processes outlive slurmd: end this cluster's jobs first (the cluster is ours alone).
  if grep -q " slurmctld$" "$PIDS" && [ -n "$(squeue -h -o %i 2>/dev/null)" ]; then
    say "cancelling the jobs still queued or running"
    scancel --full $(squeue -h -o %A | sort -u) 2>/dev/null || true
    # SIGTERM first, SIGKILL after KillWait (10 s)
    for i in $(seq 1 100); do squeue -h -t R,CG,S -o %i 2>/dev/null | grep -q . || break; sleep 0.2; done
  fi
  # slurmd first, then the controller, then munge: the reverse of the start order.
  tac "$PIDS" | while read -r pid name; do
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "$name" ]; then say "$name (pid $pid) already gone"; continue; fi
    kill "$pid"
    for i in $(seq 1 50); do [ -d "/proc/$pid" ] || break; sleep 0.2; done
    if [ -d "/proc/$pid" ]; then say "$name (pid $pid) ignored SIGTERM for 10 s: SIGKILL"; kill -9 "$pid" || true; fi
    say "stopped $name (pid $pid)"
  done
  rm -f "$PIDS"
}

write_conf() {
  local host=$1 hw=$2
  cat <<CONF
$MARK: one node, no cgroups, no accounting
ClusterName=valemb
SlurmctldHost=$host
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# a requeued task may start again after cred_expire + 1 s (default 120 s)
AuthInfo=cred_expire=10
StateSaveLocation=$BASE/ctld
SlurmdSpoolDir=$BASE/slurmd
SlurmctldPidFile=$BASE/slurmctld.pid
SlurmdPidFile=$BASE/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/backfill
# scheduler passes every 5 s instead of 60: a requeued task restarts within ~15 s
SchedulerParameters=sched_interval=5,bf_interval=5
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
KillWait=10
NodeName=$host $hw State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

start() {
  [ "$(id -u)" = 0 ] || die "start needs root (it runs munged as munge and slurmctld as slurm)"
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
    || die "Slurm is not installed: run scripts/setup/slurm.sh"
  local t0 host hw mem state i
  t0=$(date +%s)
  for d in slurmctld slurmd; do
    if pid=$(pid_of "$BASE/$d.pid" "$d"); then die "$d is already running (pid $pid): stop it first (scripts/slurm-cluster.sh stop)"; fi
  done
  [ ! -s "$PIDS" ] || die "$PIDS lists daemons of an earlier start: stop them first (scripts/slurm-cluster.sh stop $PIDS)"
  if [ -e "$CONF" ] && ! head -1 "$CONF" | grep -qF "$MARK"; then die "$CONF was not written by this script: not touching a real cluster's config"; fi
  host=$(hostname -s)
  getent hosts "$host" >/dev/null || die "the hostname $host does not resolve: add it to /etc/hosts"

  mkdir -p "$BASE/log" "$BASE/slurmd" "$(dirname "$PIDS")"
  : > "$PIDS"
  # a clean test: slurmctld would reload every job of the last start from its state folder
  rm -rf "$BASE/ctld" && mkdir -p "$BASE/ctld"
  chown slurm:slurm "$BASE/ctld" "$BASE/log"

  # munge: reuse a running munged (it may serve other things), start one otherwise
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge && chown munge:munge /etc/munge && chmod 0700 /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key && chown munge:munge /etc/munge/munge.key
    say "created /etc/munge/munge.key"
  fi
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    rm -f /run/munge/munged.pid /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock
    runuser -u munge -- /usr/sbin/munged
    for i in $(seq 1 50); do pid=$(pid_of /run/munge/munged.pid munged) && break; sleep 0.1; done
    [ -n "${pid:-}" ] || die "munged did not start"
    echo "$pid munged" >> "$PIDS"
    say "started munged (pid $pid)"
  else
    say "munged already running: using it"
  fi
  for i in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || die "munge does not answer"

  # the node as slurmd sees it, with 1 GiB of memory left to the system
  mem=$(free -m | awk '/^Mem:/{print $2}'); mem=$(( mem > 2048 ? mem - 1024 : mem / 2 ))
  hw=$(slurmd -C | head -1 | sed -E "s/^NodeName=[^ ]+ //; s/RealMemory=[0-9]+/RealMemory=$mem/")
  mkdir -p /etc/slurm
  write_conf "$host" "$hw" > "$CONF.new" && mv "$CONF.new" "$CONF" && chmod 0644 "$CONF"

  /usr/sbin/slurmctld
  for i in $(seq 1 50); do pid=$(pid_of "$BASE/slurmctld.pid" slurmctld) && break; sleep 0.1; done
  [ -n "${pid:-}" ] || die "slurmctld did not start; see $BASE/log/slurmctld.log"
  echo "$pid slurmctld" >> "$PIDS"
  say "started slurmctld (pid $pid)"
  for i in $(seq 1 100); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.1; done

  pid=
  /usr/sbin/slurmd
  for i in $(seq 1 50); do pid=$(pid_of "$BASE/slurmd.pid" slurmd) && break; sleep 0.1; done
  [ -n "${pid:-}" ] || die "slurmd did not start; see $BASE/log/slurmd.log"
  echo "$pid slurmd" >> "$PIDS"
  say "started slurmd (pid $pid)"

  state=
  for i in $(seq 1 $(( WAIT_S * 5 ))); do
    state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -1 || true)
    case "$state" in
      idle) break ;;
      down*|drain*|fail*) scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.2
  done
  [ "$state" = idle ] || die "node $host is '$state', not idle, after ${WAIT_S} s; see $BASE/log/"
  say "node $host idle after $(( $(date +%s) - t0 )) s; daemons started: $(awk '{printf "%s %s, ", $2, $1}' "$PIDS")listed in $PIDS"
}

case "${1:-}" in
  start) start ;;
  stop) stop_listed ;;
  status) sinfo; squeue ;;
  *) echo "usage: $0 start|stop [PIDFILE] | status" >&2; exit 2 ;;
esac
