#!/usr/bin/env bash
# Installs a single-node SLURM (controller, node daemon, client tools, munge) from
# the distribution's packages, for tests/test_slurm.py and for trying
# profiles/slurm locally. Idempotent: does nothing when the binaries are present.
# Debian/Ubuntu only; needs root (CI runs as root) or sudo.
set -euo pipefail

need=(munged slurmctld slurmd sbatch squeue scontrol)
missing=0
for bin in "${need[@]}"; do
    command -v "$bin" >/dev/null 2>&1 || [[ -x "/usr/sbin/$bin" ]] || missing=1
done
if [[ $missing == 0 ]]; then
    echo "slurm: already installed ($(/usr/sbin/slurmctld -V))"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "slurm: install.sh needs apt-get (Debian/Ubuntu); install slurmctld, slurmd, slurm-client and munge yourself" >&2
    exit 1
fi
SUDO=""
[[ $(id -u) == 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
echo "slurm: installed ($(/usr/sbin/slurmctld -V))"
