#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for tests/test_report.py, which opens
# `snakemake --report` output in it. Idempotent: does nothing when it is present.
# Debian/Ubuntu only; needs root (CI runs as root) or sudo.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "chromium: already installed ($(chromium --version 2>/dev/null || echo '?'))"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium: install.sh needs apt-get (Debian/Ubuntu); install Chromium yourself (or set FOLDWISE_CHROMIUM)" >&2
    exit 1
fi
SUDO=""
[[ $(id -u) == 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium: installed ($(chromium --version 2>/dev/null || echo '?'))"
