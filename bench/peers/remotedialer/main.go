// The peer tunnel for `deno task bench tunnel`: rancher/remotedialer (the tunnel under Rancher's
// cluster agents), wired like mca's hub and agent. Not part of mca; built only for the benchmark.
//
//	remotedialer server LISTEN TARGET_URL CA_FILE TOKEN
//	    /connect accepts the client; every other path is proxied to TARGET_URL through it,
//	    with "Authorization: Bearer TOKEN".
//	remotedialer client SERVER_URL    dial the server and carry its connections
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"

	"github.com/rancher/remotedialer"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: remotedialer server LISTEN TARGET_URL CA_FILE TOKEN | client SERVER_URL")
	}
	switch os.Args[1] {
	case "server":
		target, err := url.Parse(os.Args[3])
		check(err)
		caPem, err := os.ReadFile(os.Args[4])
		check(err)
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(caPem)
		server := remotedialer.New(func(req *http.Request) (string, bool, error) { return "agent", true, nil }, remotedialer.DefaultErrorWriter)
		transport := &http.Transport{
			DialContext:         server.Dialer("agent"),
			TLSClientConfig:     &tls.Config{RootCAs: pool},
			MaxIdleConnsPerHost: 1024,
			ForceAttemptHTTP2:   false,
		}
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.Transport = transport
		proxy.FlushInterval = -1
		token := os.Args[5]
		mux := http.NewServeMux()
		mux.Handle("/connect", server)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+token)
			r.Host = target.Host
			proxy.ServeHTTP(w, r)
		})
		fmt.Println("listening")
		check(http.ListenAndServe(os.Args[2], mux))
	case "client":
		for {
			err := remotedialer.ClientConnect(context.Background(), os.Args[2], http.Header{}, nil,
				func(proto, address string) bool { return true }, nil)
			fmt.Fprintln(os.Stderr, "disconnected:", err)
			time.Sleep(time.Second)
		}
	default:
		fail("unknown mode " + os.Args[1])
	}
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, message)
	os.Exit(1)
}
