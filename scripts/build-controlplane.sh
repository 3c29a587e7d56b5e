#!/usr/bin/env bash
# Builds the real Kubernetes components from the Go modules in scripts/controlplane (versions pinned in their
# go.mod files) into a cache outside the repository, one directory per set of versions:
#   k8s-<v>-etcd-<v>/    etcd, kube-apiserver, kube-scheduler, kube-controller-manager (scripts/controlplane)
#   kwok-<v>-ksm-<v>/    kwok and kube-state-metrics (scripts/controlplane/addons: they follow a newer client)
# Builds only the binaries that are missing, so a version change rebuilds only its directory.
# Prints the first directory, then the second, on its last two lines. Exits 3 when Go is not installed.
# `--check` builds nothing: it prints the directories if every binary is there, else exits 4 (the tests use it).
set -euo pipefail
cd "$(dirname "$0")/controlplane"

version() { awk -v m="$2" '$1 == m { print $2 }' "$1"; }
k8s=$(version go.mod k8s.io/kubernetes)
etcd=$(version go.mod go.etcd.io/etcd/server/v3)
kwok=$(version addons/go.mod sigs.k8s.io/kwok)
ksm=$(version addons/go.mod k8s.io/kube-state-metrics/v2)
cache=${OPSBOT_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/opsbot-controlplane}
core=$cache/k8s-$k8s-etcd-$etcd
addons=$cache/kwok-$kwok-ksm-$ksm

# binary name, output directory, module directory, package, extra linker flags
minor=${k8s#v*.}; minor=${minor%%.*}
stamp="-X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1"
stamp="$stamp -X k8s.io/component-base/version.gitMinor=$minor"
targets=(
  "etcd|$core|.|go.etcd.io/etcd/server/v3|"
  "kube-apiserver|$core|.|k8s.io/kubernetes/cmd/kube-apiserver|$stamp"
  "kube-scheduler|$core|.|k8s.io/kubernetes/cmd/kube-scheduler|$stamp"
  "kube-controller-manager|$core|.|k8s.io/kubernetes/cmd/kube-controller-manager|$stamp"
  "kwok|$addons|addons|sigs.k8s.io/kwok/cmd/kwok|"
  "kube-state-metrics|$addons|addons|k8s.io/kube-state-metrics/v2|-X github.com/prometheus/common/version.Version=${ksm#v}"
)
missing=()
for t in "${targets[@]}"; do
  IFS='|' read -r name dir _ _ _ <<<"$t"
  [ -x "$dir/$name" ] || missing+=("$t")
done
if [ ${#missing[@]} -eq 0 ]; then
  printf '%s\n%s\n' "$core" "$addons"
  exit 0
fi
names=$(for t in "${missing[@]}"; do printf ' %s' "${t%%|*}"; done)
if [ "${1:-}" = "--check" ]; then
  echo "build-controlplane:$names (Kubernetes $k8s, etcd $etcd, kwok $kwok, kube-state-metrics $ksm) not built yet;" \
       "run scripts/bootstrap.sh" >&2
  exit 4
fi
if ! command -v go >/dev/null; then
  echo "build-controlplane: Go is not installed, so$names cannot be built" >&2
  exit 3
fi

echo "build-controlplane: building$names into $cache (a first build takes ~30 min on 2 cores)" >&2
for t in "${missing[@]}"; do
  IFS='|' read -r name dir module pkg flags <<<"$t"
  mkdir -p "$dir"
  (cd "$module" && go build -trimpath -ldflags="-s -w $flags" -o "$dir/$name.partial" "$pkg")
  mv "$dir/$name.partial" "$dir/$name"
done
printf '%s\n%s\n' "$core" "$addons"
