package domain

import "encoding/json"

// ListQuery selects one page of a list: objects whose key is after After,
// at most Limit of them, with label LabelKey (equal to LabelValue when
// HasValue) and lifecycle state State, when given.
type ListQuery struct {
	Limit      int
	After      string
	LabelKey   string
	LabelValue string
	HasValue   bool
	State      string
}

// Page is one page of a list: each item's JSON as the API shows it
// (encoded once per record version, see encodecache.go) and the key to
// continue after ("" on the last page).
type Page struct {
	Items []json.RawMessage
	Next  string
}

// listPage returns one page of t's objects of tenant that match q, each
// item as view shows it.
func listPage[T any](t *table[T], tenant string, q ListQuery, view func(*T) any) (Page, error) {
	ents := t.page(tenant, q.filter(), q.After, q.Limit)
	var p Page
	if len(ents) > q.Limit {
		ents = ents[:q.Limit]
		p.Next = ents[q.Limit-1].key
	}
	p.Items = make([]json.RawMessage, len(ents))
	for i, e := range ents {
		b, err := itemJSON(e, view)
		if err != nil {
			return Page{}, err
		}
		p.Items[i] = b
	}
	return p, nil
}
