//go:build tools

// Package kwok pins kwok, which plays the cluster's nodes and pods: its own module, as it follows newer k8s.io/* releases.
package kwok

import _ "sigs.k8s.io/kwok/cmd/kwok"
