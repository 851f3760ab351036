#!/usr/bin/env bash
# Installs the Debian packages svae builds against, if any is missing. Idempotent and quiet
# when everything is there. Swift itself (6.x) is expected on PATH.
set -euo pipefail
pkgs=(libopenblas-dev libzstd-dev pkg-config)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-debian: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup-debian: swift (6.x) is not on PATH" >&2; exit 1; }
