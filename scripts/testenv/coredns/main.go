// CoreDNS for the test clusters' DNS addon, with only the plugins a cluster DNS needs. Linking
// every plugin (as CoreDNS's own main package does) would pull in the cloud DNS providers'
// SDKs; and without "forward" nothing outside the cluster is ever resolved, so pods never
// query the machine's resolver.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
