#!/usr/bin/env bash
# Installs what opsbot needs on a Debian 12 machine, idempotently:
# Debian packages for the sandbox's real servers, a virtualenv with opsbot and its test extras, and (when Go is
# installed) kube-apiserver and etcd for the control-plane tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v prometheus >/dev/null || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need_apt+=(prometheus-alertmanager)
command -v redis-server >/dev/null || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: creating .venv and installing opsbot (first run takes a minute or two)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q -U pip 2> >(grep -v "is ignored" >&2)
  .venv/bin/python -m pip install -q -e '.[test,sandbox]' 2> >(grep -v 'is ignored' >&2)
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# The real Kubernetes API server and etcd for the control-plane tests (tests/controlplane), built from Go modules
# once per version into ~/.cache/opsbot-controlplane; without Go those tests skip and say why.
if command -v go >/dev/null; then
  bash scripts/build-controlplane.sh >/dev/null
else
  echo "bootstrap: Go is not installed: the control-plane tests (tests/controlplane) will skip;" \
       "install Go 1.24+ to build kube-apiserver and etcd (scripts/build-controlplane.sh)"
fi
