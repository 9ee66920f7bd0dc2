package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/nimbus/terraform-provider-nimbus/internal/api"
)

// A list response is assembled from each item's JSON, encoded once per
// record (entry.enc: a record is immutable and a write makes a new entry,
// so the bytes are those of the record's resourceVersion). What an item
// shows depends only on the record, never on the caller (redaction is of
// the object), so the bytes are shared by every caller. The response is
// byte for byte what json.Marshal of the api.*List gives (plus the
// newline writeJSON adds).

// itemJSON returns e's list item JSON, encoding it with view on first use.
func itemJSON[T any](e *entry[T], view func(*T) any) ([]byte, error) {
	if b := e.enc.Load(); b != nil {
		return *b, nil
	}
	b, err := json.Marshal(view(e.rec))
	if err != nil {
		return nil, err
	}
	e.enc.Store(&b) // concurrent first uses store equal bytes
	return b, nil
}

// writeList answers a page of a list: ents as page returned them (limit+1
// when more remain), view the item of a record, token the nextPageToken
// after the given last key.
func writeList[T any](s *Server, w http.ResponseWriter, ents []*entry[T], limit int, view func(*T) any, token func(last string) string) {
	var meta api.ListMeta
	if len(ents) > limit {
		ents = ents[:limit]
		meta.NextPageToken = token(ents[limit-1].key)
	}
	items := make([][]byte, len(ents))
	n := len(`{"items":[],"metadata":}`) + len(ents) + 64 + len(meta.NextPageToken)
	for i, e := range ents {
		b, err := itemJSON(e, view)
		if err != nil {
			s.writeJSON(w, http.StatusOK, unencodable{err}) // answers server.internal
			return
		}
		items[i] = b
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
