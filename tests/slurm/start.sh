#!/usr/bin/env bash
# Starts a single-node SLURM on this host (munged, slurmctld, slurmd; no systemd)
# with one fake GPU, and waits until the node is idle. Idempotent: a daemon whose
# PID file names a live process is left alone (a second slurmd kills the first).
# Writes /etc/slurm/{slurm,gres}.conf (job steps ignore SLURM_CONF), refusing to
# replace ones it did not write; state and logs go to $FOLDWISE_SLURM_DIR
# (default /tmp/foldwise-slurm). Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${FOLDWISE_SLURM_DIR:-/tmp/foldwise-slurm}
HOST=$(hostname -s)
ETC=/etc/slurm
MARK="# written by foldwise tests/slurm/start.sh"
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

command -v slurmctld >/dev/null || [[ -x /usr/sbin/slurmctld ]] || { echo "slurm is not installed: run tests/slurm/install.sh" >&2; exit 1; }
export PATH=$PATH:/usr/sbin
for f in slurm.conf gres.conf; do
    if [[ -f $ETC/$f ]] && ! grep -qF "$MARK" "$ETC/$f"; then
        echo "slurm: $ETC/$f exists and was not written by start.sh; refusing to replace it" >&2; exit 1
    fi
done
mkdir -p "$STATE/ctld" "$STATE/d" "$ETC"
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
{ echo "$MARK"; sed -e "s|@HOST@|$HOST|g" -e "s|@STATE@|$STATE|g" -e "s|@CPUS@|$(nproc)|g" -e "s|@MEM_MB@|$mem_mb|g" \
    "$HERE/slurm.conf.in"; } >"$ETC/slurm.conf"
printf '%s\nName=gpu File=/dev/null\n' "$MARK" >"$ETC/gres.conf"

if ! alive /run/munge/munged.pid; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    [[ -f /etc/munge/munge.key ]] || mungekey --create --keyfile /etc/munge/munge.key
    runuser -u munge -- munged
    touch "$STATE/munged.ours"
fi
alive "$STATE/slurmctld.pid" || slurmctld
alive "$STATE/slurmd.pid" || slurmd

for _ in $(seq 60); do
    state=$(sinfo -h -n "$HOST" -o %T 2>/dev/null || true)
    [[ $state == idle || $state == mixed || $state == allocated ]] && { echo "slurm: node $HOST $state"; exit 0; }
    if [[ $state == drain* || $state == down* ]]; then scontrol update nodename="$HOST" state=resume 2>/dev/null || true; fi
    sleep 1
done
echo "slurm: node $HOST did not become idle (state '${state:-none}'); see $STATE/slurmctld.log and $STATE/slurmd.log" >&2
exit 1
