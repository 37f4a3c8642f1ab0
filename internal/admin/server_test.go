package admin

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		name, remote, host, local string
		want                      int
	}{
		{name: "loopback by address", remote: "127.0.0.1:5000", host: "127.0.0.1:9464", want: http.StatusOK},
		{name: "loopback by localhost", remote: "[::1]:5000", host: "localhost:9464", want: http.StatusOK},
		{name: "another host", remote: "192.0.2.7:5000", host: "192.0.2.2:9464", local: "192.0.2.2:9464", want: http.StatusForbidden},
		{name: "this host on its own address", remote: "192.0.2.2:5000", host: "192.0.2.2:9464", local: "192.0.2.2:9464", want: http.StatusOK},
		{name: "DNS rebinding", remote: "127.0.0.1:5000", host: "evil.example:9464", want: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/state", nil)
			r.RemoteAddr, r.Host = tt.remote, tt.host
			if tt.local != "" {
				addr, err := net.ResolveTCPAddr("tcp", tt.local)
				if err != nil {
					t.Fatal(err)
				}
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
			}
			w := httptest.NewRecorder()
			loopbackOnly(func(w http.ResponseWriter, _ *http.Request) {}).ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d", w.Code, tt.want)
			}
		})
	}
}
