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
