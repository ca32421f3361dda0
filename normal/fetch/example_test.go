package fetch_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/teeup/teeup/normal/fetch"
)

// The normal world fetches the payload a manifest names and streams it to
// the secure world, which checks the digest once the last chunk is in.
func ExampleDownloader_Fetch() {
	payload := []byte(strings.Repeat("firmware ", 1000))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "fw.bin", fetchTime, bytes.NewReader(payload))
	}))
	defer srv.Close()

	d, err := fetch.New(fetch.Config{
		ChunkSize: 4096,
		Progress: func(p fetch.Progress) {
			fmt.Printf("%d/%d bytes (attempt %d)\n", p.Delivered, p.Total, p.Attempt)
		},
	})
	if err != nil {
		panic(err)
	}
	// Stands for the ipc call that hands a chunk to the secure world. The
	// chunk's memory is reused after the call: keep a copy, not the slice.
	var secure bytes.Buffer
	toSecureWorld := func(offset uint64, chunk []byte) error {
		if offset != uint64(secure.Len()) {
			return fmt.Errorf("chunk at %d, expected %d", offset, secure.Len())
		}
		secure.Write(chunk)
		return nil
	}

	size := uint64(len(payload)) // from the manifest
	if err := d.Fetch(context.Background(), srv.URL+"/fw.bin", size, 0, toSecureWorld); err != nil {
		fmt.Println("fetch:", err)
		return
	}
	fmt.Println("identical:", bytes.Equal(secure.Bytes(), payload))
	// Output:
	// 4096/9000 bytes (attempt 1)
	// 8192/9000 bytes (attempt 1)
	// 9000/9000 bytes (attempt 1)
	// identical: true
}
