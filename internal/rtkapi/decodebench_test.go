package rtkapi

import (
	"strings"
	"testing"
)

// BenchmarkDecodePage measures decoding one page of 100 listed sessions.
func BenchmarkDecodePage(b *testing.B) {
	items := make([]string, 100)
	for i := range items {
		items[i] = fullSessionJSON
	}
	body := []byte(`{"success":true,"data":{"sessions":[` + strings.Join(items, ",") + `]},"paging":{"total_count":100,"start_offset":0,"end_offset":99}}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, f := decodePage(200, body); f != nil {
			b.Fatal(f)
		}
	}
}
