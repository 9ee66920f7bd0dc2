package domain

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

func (q ListQuery) matchLabels(labels map[string]string) bool {
	if q.LabelKey == "" {
		return true
	}
	v, ok := labels[q.LabelKey]
	return ok && (!q.HasValue || v == q.LabelValue)
}

// listPage returns one page of t's objects of tenant that match q (and
// state, the object's lifecycle state), as out shows them; next is the key
// to continue after, "" on the last page.
func listPage[T, O any](t *table[T], tenant string, q ListQuery, meta func(*T) (labels map[string]string, state string), out func(*T) O) (items []O, next string) {
	recs, keys := t.page(tenant, q.After, q.Limit, func(c *T) bool {
		labels, state := meta(c)
		return q.matchLabels(labels) && (q.State == "" || state == q.State)
	})
	items = []O{}
	for i, c := range recs {
		if i == q.Limit {
			return items, keys[i-1]
		}
		items = append(items, out(c))
	}
	return items, ""
}
