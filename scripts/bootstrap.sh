#!/usr/bin/env bash
# Makes a fresh machine (Node and npm, nothing else) ready: pnpm, then the workspace's packages.
# Sourced by start.sh and test.sh; safe to run again, it only installs what is missing.
set -euo pipefail

PNPM_VERSION=10.34.9

ensure_pnpm() {
  if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version)" != 10.* ]]; then
    echo "› installing pnpm ${PNPM_VERSION}"
    npm install --global --no-fund --no-audit "pnpm@${PNPM_VERSION}"
  fi
}

# Installs Debian packages that are missing (CI and fresh machines run as root).
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]} > 0)); then
    echo "› installing ${missing[*]}"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_workspace() {
  ensure_pnpm
  pnpm install --frozen-lockfile --reporter=append-only
}
