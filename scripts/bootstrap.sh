#!/usr/bin/env bash
# Installs what opsbot needs on a Debian 12 machine, idempotently:
# Debian packages for the sandbox's real servers, a virtualenv with opsbot and its test extras, and (when Go is
# installed) the real Kubernetes components for the control-plane tests and `sandbox up --kubernetes real`.
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

# etcd, kube-apiserver, kube-scheduler, kube-controller-manager, kwok and kube-state-metrics for the control-plane
# tests (tests/controlplane) and the sandbox on the real control plane, built from Go modules once per version into
# ~/.cache/opsbot-controlplane (nothing to do when built); without Go those tests skip and say why.
if command -v go >/dev/null; then
  bash scripts/build-controlplane.sh >/dev/null
else
  echo "bootstrap: Go is not installed: the control-plane tests (tests/controlplane) will skip;" \
       "install Go 1.26+ to build the Kubernetes components (scripts/build-controlplane.sh)"
fi
