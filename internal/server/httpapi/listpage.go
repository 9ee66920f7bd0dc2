package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
	"github.com/nimbus/terraform-provider-nimbus/internal/server/domain"
)

// writeList answers a page of a list, assembled from its items' JSON (the
// domain encodes each once per record version) with nextPageToken token:
// byte for byte what json.Marshal of the api.*List gives, plus the
// newline writeJSON adds. An error encoding the items (err) is answered
// the way writeJSON answers any response it cannot encode (logged,
// server.internal).
func (s *API) writeList(w http.ResponseWriter, page domain.Page, token string, err error) {
	if err != nil {
		s.writeJSON(w, http.StatusOK, unencodable{err})
		return
	}
	meta := api.ListMeta{NextPageToken: token}
	items := page.Items
	n := len(`{"items":[],"metadata":}`) + len(items) + 64 + len(meta.NextPageToken)
	for _, b := range items {
		n += len(b)
	}
	mb, err := json.Marshal(meta)
	if err != nil {
		s.writeJSON(w, http.StatusOK, unencodable{err})
		return
	}
	buf := listBufs.Get().(*bytes.Buffer)
	defer putListBuf(buf)
	buf.Reset()
	buf.Grow(n)
	buf.WriteString(`{"items":[`)
	for i, b := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteString(`],"metadata":`)
	buf.Write(mb)
	buf.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// listBufs recycles the buffers pages are assembled in (a page of 100
// services is some 60 KB: allocating and clearing it each time costs more
// than copying the cached items into it).
var listBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func putListBuf(b *bytes.Buffer) {
	if b.Cap() <= 4<<20 {
		listBufs.Put(b)
	}
}

// unencodable makes writeJSON answer its encoding error the way it answers
// any response it cannot encode (logged, server.internal).
type unencodable struct{ err error }

func (u unencodable) MarshalJSON() ([]byte, error) { return nil, u.err }
