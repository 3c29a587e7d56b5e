#!/usr/bin/env bash
# Sets everything up (idempotent), starts the sandbox, loads a scenario and runs opsbot's demo on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
scenario=${1:-crashloop-missing-env}
.venv/bin/opsbot sandbox up
.venv/bin/opsbot sandbox load "$scenario"
exec .venv/bin/opsbot demo
