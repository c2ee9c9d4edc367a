#!/usr/bin/env bash
# Installs what is missing, then runs every check: format and lint, types, build, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh

install_workspace
ensure_apt chromium # the browser tests drive Debian's chromium
# The Redis relay's tests and the cluster example start a real redis-server.
command -v redis-server >/dev/null 2>&1 || ensure_apt redis-server
echo "› lint";      pnpm run lint
echo "› typecheck"; pnpm run typecheck
echo "› build";     pnpm run build
echo "› test";      pnpm exec vitest run
