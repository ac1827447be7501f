#!/usr/bin/env bash
# Set up everything the cell needs on a fresh Linux machine, idempotently:
#   1. one Python environment, cached outside the clone and keyed by a hash of the pins,
#      linked as .venv/ (a rerun with nothing changed takes seconds);
#   2. the inspection_msgs interface package, generated with rosidl into that environment;
#   3. this package, installed editable so .venv/bin/<node> and .venv/bin/inspection work;
#   4. Debian packages (mosquitto, postgresql, chromium, prometheus) where missing and apt allows.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PYTHON="${PYTHON:-python3}"
CACHE_ROOT="${INSPECTION_ENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/inspection-cell}"
mkdir -p "$CACHE_ROOT"

PY_VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
ENV_HASH="$(cat requirements.txt constraints.txt <(echo "python=$PY_VERSION") | sha256sum | cut -c1-16)"
ENV_DIR="$CACHE_ROOT/venv-$ENV_HASH"

log() { echo "[setup] $*"; }

exec 9>"$CACHE_ROOT/setup.lock"
flock 9

if [[ ! -f "$ENV_DIR/.complete" ]]; then
  log "creating environment $ENV_DIR (first run: several minutes, torch is large)"
  rm -rf "$ENV_DIR"
  "$PYTHON" -m venv "$ENV_DIR"
  PIP_LOG="$CACHE_ROOT/pip-$ENV_HASH.log"
  if ! { "$ENV_DIR/bin/pip" install --upgrade pip \
         && "$ENV_DIR/bin/pip" install -r requirements.txt -c constraints.txt; } >"$PIP_LOG" 2>&1; then
    grep -v "is ignored: it is neither" "$PIP_LOG" | tail -30 >&2
    rm -rf "$ENV_DIR"
    echo "[setup] pip install failed (log: $PIP_LOG); environment removed" >&2
    exit 1
  fi
  touch "$ENV_DIR/.complete"
fi
ln -sfn "$ENV_DIR" .venv

# Interfaces: rebuilt when msg/, srv/ or the interface package change.
IFACE_HASH="$(cat msg/*.msg srv/*.srv inspection_msgs/CMakeLists.txt inspection_msgs/package.xml \
  cmake/fix_wheel_include_dirs.cmake | sha256sum | cut -c1-16)"
if [[ ! -f "$ENV_DIR/.interfaces-$IFACE_HASH" ]]; then
  log "generating inspection_msgs with rosidl"
  bash scripts/build_interfaces.sh "$ENV_DIR"
  rm -f "$ENV_DIR"/.interfaces-*
  touch "$ENV_DIR/.interfaces-$IFACE_HASH"
fi

# This package, editable; redone only when the clone moved or setup.py changed.
PKG_STAMP="$(echo "$REPO" | cat - setup.py | sha256sum | cut -c1-16)"
if [[ ! -f "$ENV_DIR/.package-$PKG_STAMP" || ! -x "$ENV_DIR/bin/inspection" ]]; then
  log "installing inspection_nodes (editable) from $REPO"
  "$ENV_DIR/bin/pip" install --quiet --no-deps --no-build-isolation -e .
  rm -f "$ENV_DIR"/.package-*
  touch "$ENV_DIR/.package-$PKG_STAMP"
fi

# Debian services and tools the cell, the backend and their tests use, installed once with apt
# where missing (as root): mosquitto (MQTT), postgresql 15 (the backend's embedded database),
# chromium + fonts (pages tested in a real headless browser, driven by playwright), prometheus
# (the metrics scrape test). Without root/apt the tests that need one skip with a reason.
declare -A DEBIAN_CHECK=(
  [mosquitto]=/usr/sbin/mosquitto
  [postgresql]=/usr/lib/postgresql/15/bin/initdb
  [chromium]=/usr/bin/chromium
  [fonts-dejavu-core]=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  [prometheus]=/usr/bin/prometheus
)
missing=()
for pkg in mosquitto postgresql chromium fonts-dejavu-core prometheus; do
  [[ -e "${DEBIAN_CHECK[$pkg]}" ]] || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing from Debian: ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null) \
      || log "could not install ${missing[*]}; tests that need them skip with a message"
  else
    log "not installed and no root/apt: ${missing[*]}; tests that need them skip with a message"
  fi
fi
log "ready: $(readlink .venv)"
