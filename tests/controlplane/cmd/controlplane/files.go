// Files the launcher leaves in DIR for its users: the admin kubeconfig and
// controlplane.env (KEY=VALUE lines with the URLs, ports and pids).
package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const kubeconfigTemplate = `apiVersion: v1
kind: Config
clusters:
- name: controlplane
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: admin@controlplane
  context:
    cluster: controlplane
    user: admin
    namespace: default
current-context: admin@controlplane
`

// writeKubeconfig writes a self-contained admin kubeconfig to DIR/kubeconfig.
func (c *cluster) writeKubeconfig() (string, error) {
	b64 := base64.StdEncoding.EncodeToString
	path := filepath.Join(c.dir, "kubeconfig")
	content := fmt.Sprintf(kubeconfigTemplate, c.apiserverURL(),
		b64(c.pki.servingCAPEM), b64(c.pki.adminCertPEM), b64(c.pki.adminKeyPEM))
	return path, writeAtomically(path, content)
}

// writeEnv writes DIR/controlplane.env, readable by a shell (`. file`) and by
// any KEY=VALUE parser.
func (c *cluster) writeEnv(controlURL string) error {
	lines := []string{
		"KUBE_APISERVER_URL=" + c.apiserverURL(),
		fmt.Sprintf("KUBE_APISERVER_PORT=%d", c.apiserverPort),
		"ETCD_URL=" + c.etcdURL(),
		fmt.Sprintf("ETCD_PORT=%d", c.etcdPort),
		"CONTROL_URL=" + controlURL,
		fmt.Sprintf("LAUNCHER_PID=%d", os.Getpid()),
		"KUBECONFIG=" + filepath.Join(c.dir, "kubeconfig"),
	}
	return writeAtomically(filepath.Join(c.dir, "controlplane.env"), strings.Join(lines, "\n")+"\n")
}

// writeAtomically makes content appear at path all at once (rename), so a
// reader polling for the file never sees half of it.
func writeAtomically(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
