// Package smtptest starts an SMTP server (emersion/go-smtp's) on loopback
// ports for tests: STARTTLS on one port, implicit TLS on another, with a
// self-signed certificate the returned client config trusts, AUTH PLAIN
// required, and every accepted message kept.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Server is a running test server. Rcpt refuses the addresses in Refuse
// with their code (set them before sending).
type Server struct {
	Host, User, Pass string
	Port             int
	TLSPort          int // implicit TLS
	Roots            *tls.Config

	mu     sync.Mutex
	got    []Mail
	refuse map[string]int
}

// Refuse makes RCPT TO:<addr> answer code (e.g. 550, 452).
func (s *Server) Refuse(addr string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse[addr] = code
}

// Mail is one accepted message.
type Mail struct {
	From, To string
	Data     []byte
	Authed   bool
	TLS      bool
}

// Mails returns the messages accepted so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.got...)
}

// Start starts a server, stopped at the test's cleanup. Its user is
// "shop" with password Pass.
func Start(t testing.TB) *Server {
	t.Helper()
	cert, roots := selfSigned(t)
	ts := &Server{Host: "127.0.0.1", User: "shop", Pass: "s3cret-Pa55", Roots: roots, refuse: map[string]int{}}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	for _, implicit := range []bool{false, true} {
		srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
			_, isTLS := c.TLSConnectionState()
			return &session{srv: ts, tls: isTLS || implicit}, nil
		}))
		srv.Domain = "mx.test"
		srv.TLSConfig = cfg
		srv.AllowInsecureAuth = false
		srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
		var l net.Listener
		var err error
		if implicit {
			l, err = tls.Listen("tcp", "127.0.0.1:0", cfg)
		} else {
			l, err = net.Listen("tcp", "127.0.0.1:0")
		}
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(l.Addr().(*net.TCPAddr).AddrPort().String()[len("127.0.0.1:"):])
		if implicit {
			ts.TLSPort = port
		} else {
			ts.Port = port
		}
		go func() { _ = srv.Serve(l) }()
		t.Cleanup(func() { _ = srv.Close() })
	}
	return ts
}

type session struct {
	srv    *Server
	tls    bool
	authed bool
	cur    Mail
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != s.srv.User || pass != s.srv.Pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	s.cur = Mail{From: from, Authed: s.authed, TLS: s.tls}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	code := s.srv.refuse[to]
	s.srv.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "no such user " + to}
	}
	s.cur.To = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.srv.mu.Lock()
	s.srv.got = append(s.srv.got, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a client config trusting it.
func selfSigned(t testing.TB) (tls.Certificate, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, &tls.Config{RootCAs: pool}
}
