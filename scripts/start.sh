#!/usr/bin/env bash
# Installs what is missing, builds, and starts a relay on port 4000 (override with TANDEM_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh

install_workspace
echo "› build"
pnpm run build >/dev/null
exec node packages/server/dist/cli.js serve --port "${TANDEM_PORT:-4000}" "$@"
