package domain

import (
	"encoding/json"
)

// A list page is made of each item's JSON, encoded once per record
// (entry.enc: a record is immutable and a write makes a new entry, so the
// bytes are those of the record's resourceVersion). What an item shows
// depends only on the record, never on the caller (redaction is of the
// object), so the bytes are shared by every caller. The HTTP layer
// assembles the response from them (httpapi's writeList), byte for byte
// what json.Marshal of the api.*List gives.

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
