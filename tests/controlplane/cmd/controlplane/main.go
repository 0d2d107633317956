// Command controlplane runs a local Kubernetes control plane (etcd and
// kube-apiserver, as controller-runtime's envtest runs them) for tests and
// the demo.
//
// It generates certificates, starts etcd on a free loopback port and waits for
// /health, starts kube-apiserver on a free loopback port and waits for
// /readyz, writes DIR/kubeconfig (admin, O=system:masters) and
// DIR/controlplane.env, prints "ready KUBECONFIG=<path>" on stdout, then
// supervises both until SIGTERM/SIGINT (or stdin EOF with
// --exit-on-stdin-eof): it stops the apiserver, then etcd, and with --cleanup
// removes DIR. SIGHUP, or a POST to CONTROL_URL/kube-apiserver/restart,
// restarts the apiserver on the same port (see control.go).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type options struct {
	dir            string
	etcdBin        string
	apiserverBin   string
	startTimeout   time.Duration
	exitOnStdinEOF bool
	cleanup        bool
}

func main() {
	os.Exit(run(parseFlags()))
}

func parseFlags() options {
	var o options
	binDir := "."
	if self, err := os.Executable(); err == nil {
		binDir = filepath.Dir(self)
	}
	flag.StringVar(&o.dir, "dir", "", "state directory: certificates, etcd data, logs, kubeconfig (required)")
	flag.StringVar(&o.etcdBin, "etcd", filepath.Join(binDir, "etcd"), "etcd binary")
	flag.StringVar(&o.apiserverBin, "kube-apiserver", filepath.Join(binDir, "kube-apiserver"), "kube-apiserver binary")
	flag.DurationVar(&o.startTimeout, "start-timeout", 2*time.Minute, "how long etcd and kube-apiserver each get to become healthy")
	flag.BoolVar(&o.exitOnStdinEOF, "exit-on-stdin-eof", false, "stop everything when stdin reaches end of file")
	flag.BoolVar(&o.cleanup, "cleanup", false, "remove --dir after stopping")
	flag.Parse()
	if o.dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: controlplane --dir DIR [flags]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	return o
}

func run(o options) int {
	c, err := prepare(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		return 1
	}
	shutdown := func(code int) int {
		c.stop()
		if o.cleanup {
			if err := os.RemoveAll(o.dir); err != nil {
				fmt.Fprintln(os.Stderr, "controlplane: removing state:", err)
			}
		}
		return code
	}

	var ready atomic.Bool
	stopRequested := make(chan struct{})
	var once sync.Once
	requestStop := func() { once.Do(func() { close(stopRequested) }) }
	c.abort = stopRequested
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	go func() {
		for sig := range signals {
			if sig != syscall.SIGHUP {
				requestStop()
			} else if ready.Load() {
				go restartOnHangup(c)
			}
		}
	}()
	if o.exitOnStdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			requestStop()
		}()
	}

	began := time.Now()
	if err := c.start(); err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		return shutdown(1)
	}
	controlURL, err := serveControl(c)
	if err == nil {
		err = c.writeEnv(controlURL)
	}
	kubeconfig := ""
	if err == nil {
		kubeconfig, err = c.writeKubeconfig()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlplane:", err)
		return shutdown(1)
	}
	ready.Store(true)
	fmt.Fprintf(os.Stderr, "controlplane: kube-apiserver %s ready after %s (etcd %s)\n",
		c.apiserverURL(), time.Since(began).Round(time.Millisecond), c.etcdURL())
	fmt.Printf("ready KUBECONFIG=%s\n", kubeconfig)

	select {
	case <-stopRequested:
		return shutdown(0)
	case p := <-c.exited:
		fmt.Fprintf(os.Stderr, "controlplane: %s exited unexpectedly (%v); last lines of %s:\n%s\n",
			p.name, p.err, p.logPath, p.logTail(logTailLines))
		return shutdown(1)
	}
}

// prepare checks the options and generates the cluster's certificates.
func prepare(o options) (*cluster, error) {
	for _, bin := range []string{o.etcdBin, o.apiserverBin} {
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%w (build it with `make controlplane-bin`)", err)
		}
	}
	if _, err := os.Stat(filepath.Join(o.dir, "etcd-data")); err == nil {
		return nil, errors.New(o.dir + " holds another control plane's state: stop it and remove the directory first")
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	return newCluster(dir, o.etcdBin, o.apiserverBin, o.startTimeout)
}

func restartOnHangup(c *cluster) {
	fmt.Fprintln(os.Stderr, "controlplane: SIGHUP: restarting kube-apiserver")
	if err := c.restartAPIServer(); err != nil {
		fmt.Fprintln(os.Stderr, "controlplane: restarting kube-apiserver:", err)
		return
	}
	fmt.Fprintln(os.Stderr, "controlplane: kube-apiserver ready again")
}
