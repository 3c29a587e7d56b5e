//go:build tools

// Package controlplane names the Kubernetes components opsbot's control-plane tests and the real-cluster sandbox
// run (etcd, kube-apiserver, kube-scheduler and kube-controller-manager), so that scripts/build-controlplane.sh
// builds them at the versions pinned in go.mod.
package controlplane

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
)
