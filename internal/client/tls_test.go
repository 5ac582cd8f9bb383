package client_test

import (
	"crypto/tls"
	"net"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/stockwatch/stockwatch/internal/client"
	"github.com/stockwatch/stockwatch/internal/client/clienttest"
	"github.com/stockwatch/stockwatch/internal/tlstest"
)

func TestMutualTLS(t *testing.T) {
	t.Parallel()
	p := tlstest.New(t, "stockwatch.test")
	srv := clienttest.Start(t, clienttest.Options{
		AdminToken: "s3cret",
		TLS: &tls.Config{
			Certificates: []tls.Certificate{p.ServerCert},
			ClientCAs:    p.Pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
			MinVersion:   tls.VersionTLS12,
		},
	})
	_, port, _ := net.SplitHostPort(srv.Addr)
	addr := net.JoinHostPort("localhost", port)

	tests := []struct {
		name string
		opts client.Options
		want codes.Code
	}{
		{"MTLSWithToken", client.Options{Token: "s3cret", TLS: client.TLS{CAFile: p.CAFile, CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile, ServerName: "stockwatch.test"}}, codes.OK},
		{"NoClientCert", client.Options{Token: "s3cret", TLS: client.TLS{CAFile: p.CAFile, ServerName: "stockwatch.test"}}, codes.Unavailable},
		{"WrongServerName", client.Options{Token: "s3cret", TLS: client.TLS{CAFile: p.CAFile, CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile}}, codes.Unavailable},
		{"UnknownCA", client.Options{Token: "s3cret", TLS: client.TLS{Enabled: true, CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile, ServerName: "stockwatch.test"}}, codes.Unavailable},
		{"Plaintext", client.Options{Token: "s3cret"}, codes.Unavailable},
		{"MTLSWithoutToken", client.Options{TLS: client.TLS{CAFile: p.CAFile, CertFile: p.ClientCertFile, KeyFile: p.ClientKeyFile, ServerName: "stockwatch.test"}}, codes.Unauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Retries = -1
			c, err := client.Dial(addr, tt.opts)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.Close()
			_, err = c.ListUsers(t.Context(), 0, "")
			wantCode(t, err, tt.want)
		})
	}
}
