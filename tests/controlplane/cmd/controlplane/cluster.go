// The control plane proper: etcd and kube-apiserver on free loopback ports,
// started in order and waited for, stopped in reverse order, and the
// apiserver restartable on its original port.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// logTailLines is how much of a child's log a start failure reports.
const logTailLines = 40

// cluster is one etcd plus one kube-apiserver.
type cluster struct {
	dir          string
	etcdBin      string
	apiserverBin string
	startTimeout time.Duration
	pki          *pki
	exited       chan *process
	// abort, once closed, makes a pending start give up.
	abort <-chan struct{}

	etcdPort, etcdPeerPort, apiserverPort int

	// mu serialises starting and stopping the apiserver.
	mu        sync.Mutex
	etcd      *process
	apiserver *process
	// admin talks to the apiserver as the admin user.
	admin *http.Client
}

func newCluster(dir, etcdBin, apiserverBin string, startTimeout time.Duration) (*cluster, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	p, err := generatePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return nil, fmt.Errorf("generating certificates: %w", err)
	}
	admin, err := adminClient(p)
	if err != nil {
		return nil, err
	}
	return &cluster{
		dir: dir, etcdBin: etcdBin, apiserverBin: apiserverBin, startTimeout: startTimeout,
		pki: p, exited: make(chan *process, 4), admin: admin,
		etcdPort: ports[0], etcdPeerPort: ports[1], apiserverPort: ports[2],
	}, nil
}

// freePorts asks the kernel for n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func adminClient(p *pki) (*http.Client, error) {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.servingCAPEM)
	cert, err := tls.X509KeyPair(p.adminCertPEM, p.adminKeyPEM)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: roots, Certificates: []tls.Certificate{cert},
		}},
	}, nil
}

func (c *cluster) etcdURL() string { return "http://127.0.0.1:" + strconv.Itoa(c.etcdPort) }

func (c *cluster) apiserverURL() string {
	return "https://127.0.0.1:" + strconv.Itoa(c.apiserverPort)
}

// start starts etcd, then the apiserver, each waited for until healthy.
func (c *cluster) start() error {
	peerURL := "http://127.0.0.1:" + strconv.Itoa(c.etcdPeerPort)
	etcd, err := startProcess("etcd", c.etcdBin, []string{
		"--name=controlplane",
		"--data-dir=" + filepath.Join(c.dir, "etcd-data"),
		"--listen-client-urls=" + c.etcdURL(),
		"--advertise-client-urls=" + c.etcdURL(),
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=controlplane=" + peerURL,
		"--unsafe-no-fsync",
	}, filepath.Join(c.dir, "etcd.log"), c.exited)
	if err != nil {
		return err
	}
	c.etcd = etcd
	if err := c.waitHealthy(etcd, c.etcdURL()+"/health", http.DefaultClient); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startAPIServerLocked()
}

func (c *cluster) apiserverArgs() []string {
	port := strconv.Itoa(c.apiserverPort)
	return []string{
		"--etcd-servers=" + c.etcdURL(),
		"--cert-dir=" + c.pki.dir,
		"--tls-cert-file=" + c.pki.servingCert,
		"--tls-private-key-file=" + c.pki.servingKey,
		"--secure-port=" + port,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--allow-privileged=true",
		"--disable-admission-plugins=ServiceAccount",
		"--service-account-issuer=https://127.0.0.1:" + port + "/",
		"--service-account-key-file=" + c.pki.servicePubKey,
		"--service-account-signing-key-file=" + c.pki.serviceKey,
		"--client-ca-file=" + c.pki.clientCA,
	}
}

func (c *cluster) startAPIServerLocked() error {
	if c.apiserver != nil && !c.apiserver.exitedEarly() {
		return errors.New("kube-apiserver is already running")
	}
	apiserver, err := startProcess("kube-apiserver", c.apiserverBin, c.apiserverArgs(),
		filepath.Join(c.dir, "kube-apiserver.log"), c.exited)
	if err != nil {
		return err
	}
	c.apiserver = apiserver
	return c.waitHealthy(apiserver, c.apiserverURL()+"/readyz", c.admin)
}

// stopAPIServer stops the apiserver (a no-op when it is not running).
func (c *cluster) stopAPIServer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiserver != nil {
		c.apiserver.stop()
	}
}

// startAPIServer starts the apiserver again on its original port.
func (c *cluster) startAPIServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startAPIServerLocked()
}

// restartAPIServer stops the apiserver and starts it again on the same port,
// returning once /readyz answers 200.
func (c *cluster) restartAPIServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.apiserver != nil {
		c.apiserver.stop()
	}
	return c.startAPIServerLocked()
}

// stop stops the apiserver, then etcd.
func (c *cluster) stop() {
	c.stopAPIServer()
	if c.etcd != nil {
		c.etcd.stop()
	}
}

// waitHealthy polls url until it answers 200, the child exits, or the start
// timeout passes; failures carry the tail of the child's log.
func (c *cluster) waitHealthy(p *process, url string, client *http.Client) error {
	deadline := time.Now().Add(c.startTimeout)
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return startError(p, fmt.Sprintf("exited (%v) before %s answered", p.err, url))
		case <-c.abort:
			return fmt.Errorf("%s: start abandoned, the launcher is stopping", p.name)
		case <-ticker.C:
		}
		if time.Now().After(deadline) {
			return startError(p, fmt.Sprintf("not healthy at %s after %s", url, c.startTimeout))
		}
	}
}

func startError(p *process, what string) error {
	return fmt.Errorf("%s %s; last lines of %s:\n%s", p.name, what, p.logPath, p.logTail(logTailLines))
}
