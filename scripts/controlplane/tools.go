//go:build tools

// Package controlplane names the Kubernetes components opsbot's control-plane tests run (kube-apiserver and
// etcd), so that scripts/build-controlplane.sh builds them at the versions pinned in go.mod.
package controlplane

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
)
