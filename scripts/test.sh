#!/usr/bin/env bash
# Sets everything up (idempotent) and runs opsbot's whole test suite against real local servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest -q "$@"
