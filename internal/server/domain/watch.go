package domain

// Kinds of objects, as Watch and ResourceVersion name them.
const (
	KindService = kindService
	KindSandbox = kindSandbox
	KindSession = kindSession
)

// Watch registers interest in one object: ch is closed at its next write
// or delete. release must be called (however the wait ends); it removes the
// watch.
func (s *Domain) Watch(kind, tenant, key string) (ch <-chan struct{}, release func()) {
	return s.watch.ch(objKey(kind, tenant, key))
}

// Watchers is the number of objects someone is waiting on.
func (s *Domain) Watchers() int { return s.watch.len() }

// ResourceVersion is an object's current resourceVersion, "" when it does
// not exist.
func (s *Domain) ResourceVersion(kind, tenant, key string) string {
	switch kind {
	case kindService:
		if c := s.services.get(tenant, key); c != nil {
			return c.rv()
		}
	case kindSandbox:
		if c := s.sandboxes.get(tenant, key); c != nil {
			return c.rv()
		}
	case kindSession:
		if c := s.sessions.get(tenant, key); c != nil {
			return c.rv()
		}
	}
	return ""
}
