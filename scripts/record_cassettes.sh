#!/usr/bin/env bash
# Record tests/chat/cassettes anew from a real local model (llama-server with Qwen2.5-Coder-1.5B-Instruct):
# starts the server unless OPSBOT_RECORD_LLM already points at one, then runs the cassette tests recording.
#   bash scripts/record_cassettes.sh          # about 5 minutes on 2 cores once the server is built
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${OPSBOT_RECORD_LLM:-}" ]; then
  port=8089
  bash scripts/local_model.sh serve 1.5b "$port" > /tmp/opsbot-record-llm.log 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 1; done
  export OPSBOT_RECORD_LLM="http://127.0.0.1:$port/v1"
fi
rm -f tests/chat/cassettes/*.yaml
.venv/bin/python -m pytest -q -p no:cacheprovider tests/chat/test_real_model_replies.py
