package store_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/nimbus/terraform-provider-nimbus/internal/server/store"
)

// each runs a test against both implementations.
func each(t *testing.T, f func(t *testing.T, s store.Store)) {
	t.Run("mem", func(t *testing.T) {
		s := store.NewMem()
		t.Cleanup(func() { _ = s.Close() })
		f(t, s)
	})
	t.Run("bolt", func(t *testing.T) {
		s, err := store.OpenBolt(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		f(t, s)
	})
}

func scan(t *testing.T, s store.Store, kind string, r store.Range) []string {
	t.Helper()
	var got []string
	if err := s.Scan(kind, r, func(tenant, key string, data []byte) error {
		got = append(got, tenant+"/"+key+"="+string(data))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestScanIsOrderedAndSeeks(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		for _, k := range []string{"b/2", "a/9", "b/1", "a/1", "ab/0", "b/3"} {
			tenant, key, _ := cut(k)
			if err := s.Put("things", tenant, key, []byte("v"+key)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Put("other", "a", "x", []byte("o")); err != nil {
			t.Fatal(err)
		}
		if got, want := scan(t, s, "things", store.Range{}), []string{"a/1=v1", "a/9=v9", "ab/0=v0", "b/1=v1", "b/2=v2", "b/3=v3"}; !slices.Equal(got, want) {
			t.Fatalf("full scan %v, want %v", got, want)
		}
		if got, want := scan(t, s, "things", store.Range{Tenant: "b", From: "2"}), []string{"b/2=v2", "b/3=v3"}; !slices.Equal(got, want) {
			t.Fatalf("scan of b from 2: %v, want %v", got, want)
		}
		if got, want := scan(t, s, "things", store.Range{Tenant: "a"}), []string{"a/1=v1", "a/9=v9"}; !slices.Equal(got, want) {
			t.Fatalf("scan of tenant a (not ab): %v, want %v", got, want)
		}
		if got := scan(t, s, "missing", store.Range{}); len(got) != 0 {
			t.Fatalf("scan of an unknown kind: %v", got)
		}
		n := 0
		if err := s.Scan("things", store.Range{}, func(string, string, []byte) error {
			n++
			return store.ErrStop
		}); err != nil || n != 1 {
			t.Fatalf("ErrStop: %d calls, %v", n, err)
		}
		boom := errors.New("boom")
		if err := s.Scan("things", store.Range{}, func(string, string, []byte) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("a callback error comes back: %v", err)
		}
		if err := s.Delete("things", "b", "2"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete("things", "b", "never"); err != nil {
			t.Fatalf("deleting a missing key: %v", err)
		}
		if got, want := scan(t, s, "things", store.Range{Tenant: "b"}), []string{"b/1=v1", "b/3=v3"}; !slices.Equal(got, want) {
			t.Fatalf("after delete: %v, want %v", got, want)
		}
	})
}

func cut(k string) (tenant, key string, ok bool) {
	for i := range k {
		if k[i] == '/' {
			return k[:i], k[i+1:], true
		}
	}
	return k, "", false
}

func TestUpdateIsAllOrNothing(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		boom := errors.New("boom")
		if err := s.Update(func(tx store.Tx) error {
			if err := tx.Put("k", "t", "a", []byte("1")); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("failed transaction: %v", err)
		}
		if got := scan(t, s, "k", store.Range{}); len(got) != 0 {
			t.Fatalf("a failed transaction left %v", got)
		}
		if err := s.Update(func(tx store.Tx) error {
			for i := range 3 {
				if err := tx.Put("k", "t", fmt.Sprint(i), []byte("x")); err != nil {
					return err
				}
			}
			return tx.Delete("k", "t", "1")
		}); err != nil {
			t.Fatal(err)
		}
		if got, want := scan(t, s, "k", store.Range{}), []string{"t/0=x", "t/2=x"}; !slices.Equal(got, want) {
			t.Fatalf("after the transaction: %v, want %v", got, want)
		}
	})
}

func TestWatchSeesCommittedChanges(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		var mu sync.Mutex
		var got []string
		cancel := s.Watch(func(c store.Change) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, fmt.Sprintf("%s %s/%s %q %v", c.Kind, c.Tenant, c.Key, c.Data, c.Deleted))
		})
		if err := s.Put("k", "t", "a", []byte("1")); err != nil {
			t.Fatal(err)
		}
		_ = s.Update(func(tx store.Tx) error { _ = tx.Put("k", "t", "b", []byte("2")); return errors.New("rolled back") })
		if err := s.Update(func(tx store.Tx) error { return tx.Put("k", "t", "c", []byte("3")) }); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete("k", "t", "a"); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := s.Put("k", "t", "d", []byte("4")); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		want := []string{`k t/a "1" false`, `k t/c "3" false`, `k t/a "" true`}
		if !slices.Equal(got, want) {
			t.Fatalf("changes %q, want %q", got, want)
		}
	})
}

func TestJSONHelpers(t *testing.T) {
	each(t, func(t *testing.T, s store.Store) {
		type rec struct{ N int }
		for i := range 3 {
			if err := store.PutJSON(s, "r", "t", fmt.Sprint(i), &rec{N: i * 10}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Put("r", "u", "bad", []byte("{")); err != nil {
			t.Fatal(err)
		}
		var sum int
		if err := store.ScanJSON(s, "r", store.Range{Tenant: "t"}, func(_, _ string, r *rec) error { sum += r.N; return nil }); err != nil || sum != 30 {
			t.Fatalf("sum %d, %v", sum, err)
		}
		if err := store.ScanJSON(s, "r", store.Range{}, func(string, string, *rec) error { return nil }); err == nil {
			t.Fatal("a malformed document loads without error")
		}
	})
}

func TestMemClosed(t *testing.T) {
	s := store.NewMem()
	_ = s.Close()
	if err := s.Put("k", "t", "a", nil); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("put after close: %v", err)
	}
}
