#!/usr/bin/env bash
# Builds the real Kubernetes API server and etcd from the Go module in scripts/controlplane (versions pinned in
# its go.mod) into a cache outside the repository keyed by those versions; does nothing when they are built.
# Prints the directory holding `kube-apiserver` and `etcd` on its last line. Exits 3 when Go is not installed.
# `--check` builds nothing: it prints the directory if the binaries are there, else exits 4 (the tests use it).
set -euo pipefail
cd "$(dirname "$0")/controlplane"

k8s=$(awk '$1 == "k8s.io/kubernetes" { print $2 }' go.mod)
etcd=$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2 }' go.mod)
out=${OPSBOT_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/opsbot-controlplane}/k8s-$k8s-etcd-$etcd
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ]; then
  echo "$out"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "build-controlplane: kube-apiserver $k8s and etcd $etcd are not built yet; run scripts/bootstrap.sh" >&2
  exit 4
fi
if ! command -v go >/dev/null; then
  echo "build-controlplane: Go is not installed, so kube-apiserver $k8s and etcd $etcd cannot be built" >&2
  exit 3
fi

echo "build-controlplane: building kube-apiserver $k8s and etcd $etcd into $out (the first build takes ~20 min on 2 cores)" >&2
tmp="$out.partial"
rm -rf "$tmp" && mkdir -p "$tmp"
minor=${k8s#v*.}; minor=${minor%%.*}
version=k8s.io/component-base/version
go build -trimpath -ldflags="-s -w -X $version.gitVersion=$k8s -X $version.gitMajor=1 -X $version.gitMinor=$minor" \
  -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -ldflags="-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
rm -rf "$out" && mv "$tmp" "$out"
echo "$out"
