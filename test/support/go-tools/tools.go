//go:build tools

// Package gotools pins the Go programs the HTTP/2 tests run (h2spec, grpc-go's interop client and
// server): `npm run go-tools` builds them from this module into .go-tools/ (git-ignored).
package gotools

import (
	_ "github.com/summerwind/h2spec/cmd/h2spec"
	_ "google.golang.org/grpc/interop/client"
	_ "google.golang.org/grpc/interop/server"
)
