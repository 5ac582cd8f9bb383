package testkit

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// HTTP sends one request through c with a 20-second deadline and returns
// the response, its body read and closed, and the body. Each header is
// "Name: value"; body may be nil. It fails tb if the request cannot be
// sent or its answer read.
func HTTP(tb testing.TB, c *http.Client, method, url string, body io.Reader, header ...string) (*http.Response, string) {
	tb.Helper()
	resp, b, err := TryHTTP(tb, c, method, url, body, header...)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	return resp, b
}

// TryHTTP is HTTP for a request that may fail (a refused TLS handshake):
// it returns the error of sending it or of reading its answer, and fails
// tb only if the request cannot be made.
func TryHTTP(tb testing.TB, c *http.Client, method, url string, body io.Reader, header ...string) (*http.Response, string, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range header {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}
