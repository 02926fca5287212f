#!/usr/bin/env bash
# Starts a single-node SLURM on this host (munged, slurmctld, slurmd; no systemd)
# with one fake GPU, and waits until the node is idle. Idempotent: a daemon whose
# PID file names a live process is left alone (a second slurmd kills the first).
# State, logs and the generated slurm.conf live in $FOLDWISE_SLURM_DIR
# (default /tmp/foldwise-slurm). Afterwards: export SLURM_CONF=$FOLDWISE_SLURM_DIR/slurm.conf
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${FOLDWISE_SLURM_DIR:-/tmp/foldwise-slurm}
HOST=$(hostname -s)
export SLURM_CONF=$STATE/slurm.conf
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

command -v slurmctld >/dev/null || [[ -x /usr/sbin/slurmctld ]] || { echo "slurm is not installed: run tests/slurm/install.sh" >&2; exit 1; }
export PATH=$PATH:/usr/sbin
mkdir -p "$STATE/ctld" "$STATE/d"
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
sed -e "s|@HOST@|$HOST|g" -e "s|@STATE@|$STATE|g" -e "s|@CPUS@|$(nproc)|g" -e "s|@MEM_MB@|$mem_mb|g" \
    "$HERE/slurm.conf.in" >"$STATE/slurm.conf"
echo "Name=gpu File=/dev/null" >"$STATE/gres.conf"

if ! alive /run/munge/munged.pid; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    [[ -f /etc/munge/munge.key ]] || mungekey --create --keyfile /etc/munge/munge.key
    runuser -u munge -- munged
fi
alive "$STATE/slurmctld.pid" || slurmctld -f "$SLURM_CONF"
alive "$STATE/slurmd.pid" || slurmd -f "$SLURM_CONF"

for _ in $(seq 60); do
    state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
    [[ $state == idle || $state == mixed || $state == allocated ]] && { echo "slurm: node $HOST $state; export SLURM_CONF=$SLURM_CONF"; exit 0; }
    [[ $state == drain* || $state == down* ]] && scontrol update nodename="$HOST" state=resume 2>/dev/null || true
    sleep 1
done
echo "slurm: node $HOST did not become idle (state '${state:-none}'); see $STATE/slurmctld.log and $STATE/slurmd.log" >&2
exit 1
