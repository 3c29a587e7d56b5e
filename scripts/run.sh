#!/usr/bin/env bash
# Sets everything up (idempotent), starts the sandbox and runs opsbot's demo on a scenario:
# alert → card → approval → recovery → resolution → knowledge → audit trail.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
scenario=${1:-crashloop-missing-env}
.venv/bin/opsbot sandbox up
exec .venv/bin/opsbot demo --scenario "$scenario"
