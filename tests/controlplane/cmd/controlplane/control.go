// The control endpoint: a loopback HTTP server through which tests stop,
// start and restart kube-apiserver under a running client. Each request
// answers once the action is complete (for start and restart: once /readyz
// answers 200 again), with 200 and "ok" or 500 and the error.
package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
)

// serveControl listens on a free loopback port and returns its base URL.
func serveControl(c *cluster) (string, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("control endpoint: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /kube-apiserver/restart", action(c.restartAPIServer))
	mux.HandleFunc("POST /kube-apiserver/start", action(c.startAPIServer))
	mux.HandleFunc("POST /kube-apiserver/stop", action(func() error { c.stopAPIServer(); return nil }))
	go http.Serve(listener, mux) //nolint:errcheck // ends with the process
	return "http://127.0.0.1:" + strconv.Itoa(listener.Addr().(*net.TCPAddr).Port), nil
}

func action(run func() error) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if err := run(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	}
}
