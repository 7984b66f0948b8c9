# The e2e control plane (issue 3): a Makefile fragment the top-level Makefile includes.
#   make cluster-build    build/cached binaries (kube-apiserver, controller-manager, scheduler, kubectl, etcd, kwok, helm)
#   make cluster-up       start the loopback-only cluster; last line: export KUBECONFIG=…
#                         eval "$(make -s cluster-up | tail -1)"
#   make cluster-status   show components and readiness (exit 1 when not running)
#   make cluster-down     stop exactly what cluster-up started and remove its state
# Knobs (environment): PORTCULLIS_CACHE, PORTCULLIS_CLUSTER_DIR, PORTCULLIS_KWOK_NODES, PORTCULLIS_*_PORT.

# Resolved when included, so the fragment works whatever the including Makefile's directory is.
PORTCULLIS_CLUSTER_SCRIPTS := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: cluster-build cluster-up cluster-down cluster-status

cluster-build:
	@$(PORTCULLIS_CLUSTER_SCRIPTS)/build.sh

cluster-up:
	@$(PORTCULLIS_CLUSTER_SCRIPTS)/up.sh

cluster-down:
	@$(PORTCULLIS_CLUSTER_SCRIPTS)/down.sh

cluster-status:
	@$(PORTCULLIS_CLUSTER_SCRIPTS)/status.sh
