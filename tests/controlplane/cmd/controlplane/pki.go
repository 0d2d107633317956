// PKI for the local control plane: a serving CA and serving certificate for
// kube-apiserver, a client CA with an admin client certificate
// (O=system:masters), and the service-account signing key pair. Everything is
// ECDSA P-256, generated on every start, written under DIR/pki.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certValidity is long enough for any local session and short enough to be
// obviously throwaway.
const certValidity = 7 * 24 * time.Hour

// pki holds the paths of the generated files and the PEM the kubeconfig embeds.
type pki struct {
	dir string

	servingCAPEM  []byte
	adminCertPEM  []byte
	adminKeyPEM   []byte
	servingCert   string
	servingKey    string
	clientCA      string
	serviceKey    string
	servicePubKey string
}

// keyPair is a certificate with its private key, used to sign further certs.
type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// generatePKI writes every certificate and key the control plane needs into dir.
func generatePKI(dir string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &pki{
		dir:           dir,
		servingCert:   filepath.Join(dir, "serving.crt"),
		servingKey:    filepath.Join(dir, "serving.key"),
		clientCA:      filepath.Join(dir, "client-ca.crt"),
		serviceKey:    filepath.Join(dir, "sa.key"),
		servicePubKey: filepath.Join(dir, "sa.pub"),
	}

	servingCA, err := newCA("tagwatch-controlplane-serving-ca")
	if err != nil {
		return nil, err
	}
	serving, err := newLeaf(servingCA, pkix.Name{CommonName: "kube-apiserver"},
		x509.ExtKeyUsageServerAuth, func(t *x509.Certificate) {
			t.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 0, 0, 1)}
			t.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default",
				"kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
		})
	if err != nil {
		return nil, err
	}
	clientCA, err := newCA("tagwatch-controlplane-client-ca")
	if err != nil {
		return nil, err
	}
	admin, err := newLeaf(clientCA, pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		x509.ExtKeyUsageClientAuth, func(*x509.Certificate) {})
	if err != nil {
		return nil, err
	}
	serviceKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}

	p.servingCAPEM = certPEM(servingCA.cert)
	p.adminCertPEM = certPEM(admin.cert)
	if p.adminKeyPEM, err = keyPEM(admin.key); err != nil {
		return nil, err
	}
	servingKeyPEM, err := keyPEM(serving.key)
	if err != nil {
		return nil, err
	}
	serviceKeyPEM, err := keyPEM(serviceKey)
	if err != nil {
		return nil, err
	}
	servicePubDER, err := x509.MarshalPKIXPublicKey(&serviceKey.PublicKey)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		filepath.Join(dir, "serving-ca.crt"): p.servingCAPEM,
		p.servingCert:                        append(certPEM(serving.cert), p.servingCAPEM...),
		p.servingKey:                         servingKeyPEM,
		p.clientCA:                           certPEM(clientCA.cert),
		filepath.Join(dir, "admin.crt"):      p.adminCertPEM,
		filepath.Join(dir, "admin.key"):      p.adminKeyPEM,
		p.serviceKey:                         serviceKeyPEM,
		p.servicePubKey:                      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: servicePubDER}),
	}
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func newCA(commonName string) (*keyPair, error) {
	template := &x509.Certificate{
		Subject:               pkix.Name{CommonName: commonName},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	return sign(template, nil)
}

func newLeaf(ca *keyPair, subject pkix.Name, usage x509.ExtKeyUsage, customize func(*x509.Certificate)) (*keyPair, error) {
	template := &x509.Certificate{
		Subject:     subject,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	customize(template)
	return sign(template, ca)
}

// sign creates a fresh key for template and signs it with parent, or
// self-signs when parent is nil.
func sign(template *x509.Certificate, parent *keyPair) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	template.SerialNumber = serial
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(certValidity)
	issuer, signer := template, key
	if parent != nil {
		issuer, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, template, issuer, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("signing certificate %q: %w", template.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

func certPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

func keyPEM(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
