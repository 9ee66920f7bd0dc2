package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bolt is the durable Store: one bbolt file in the data directory, one
// bucket per kind. Every Put and Delete commits with fsync before
// returning; concurrent writers share commits through bbolt's Batch (group
// commit).
type Bolt struct {
	db    *bolt.DB
	watch watchers
}

// BoltFileName is the database file inside --data-dir.
const BoltFileName = "nimbus.db"

// OpenBolt opens (creating if needed) the store in dir.
func OpenBolt(dir string) (*Bolt, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, BoltFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w (is another Nimbus server using this --data-dir?)", path, err)
	}
	// Group commit: wait at most 2ms for other writers to join a commit.
	db.MaxBatchDelay = 2 * time.Millisecond
	return &Bolt{db: db}, nil
}

// boltTx is a Tx over one bbolt read-write transaction.
type boltTx struct {
	tx      *bolt.Tx
	changes []Change
}

func (t *boltTx) Put(kind, tenant, key string, data []byte) error {
	b, err := t.tx.CreateBucketIfNotExists([]byte(kind))
	if err != nil {
		return err
	}
	v := append([]byte(nil), data...)
	if err := b.Put(joinKey(tenant, key), v); err != nil {
		return err
	}
	t.changes = append(t.changes, Change{Kind: kind, Tenant: tenant, Key: key, Data: v})
	return nil
}

func (t *boltTx) Delete(kind, tenant, key string) error {
	t.changes = append(t.changes, Change{Kind: kind, Tenant: tenant, Key: key, Deleted: true})
	b := t.tx.Bucket([]byte(kind))
	if b == nil {
		return nil
	}
	return b.Delete(joinKey(tenant, key))
}

// commit runs fn in one read-write transaction through run (bbolt's Batch
// or Update) and publishes its changes once they are durable.
func (s *Bolt) commit(run func(func(*bolt.Tx) error) error, fn func(*boltTx) error) error {
	var changes []Change
	if err := run(func(tx *bolt.Tx) error {
		t := &boltTx{tx: tx} // Batch may run fn again alone: start afresh
		if err := fn(t); err != nil {
			return err
		}
		changes = t.changes
		return nil
	}); err != nil {
		return err
	}
	s.watch.publish(changes...)
	return nil
}

// Put implements Store (group commit).
func (s *Bolt) Put(kind, tenant, key string, data []byte) error {
	return s.commit(s.db.Batch, func(t *boltTx) error { return t.Put(kind, tenant, key, data) })
}

// Delete implements Store (group commit).
func (s *Bolt) Delete(kind, tenant, key string) error {
	return s.commit(s.db.Batch, func(t *boltTx) error { return t.Delete(kind, tenant, key) })
}

// Update implements Store: one transaction, one fsync.
func (s *Bolt) Update(fn func(Tx) error) error {
	return s.commit(s.db.Update, func(t *boltTx) error { return fn(t) })
}

// Scan implements Store.
func (s *Bolt) Scan(kind string, r Range, fn func(tenant, key string, data []byte) error) error {
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(kind))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		start := seek(r)
		var k, v []byte
		if start == nil {
			k, v = c.First()
		} else {
			k, v = c.Seek(start)
		}
		for ; k != nil; k, v = c.Next() {
			t, key, ok := splitKey(k)
			if !ok {
				return fmt.Errorf("store: malformed key %q in %s", k, kind)
			}
			if !inRange(r, t) {
				return nil
			}
			if err := fn(t, key, bytes.Clone(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// Watch implements Store.
func (s *Bolt) Watch(fn func(Change)) func() { return s.watch.add(fn) }

// Close implements Store.
func (s *Bolt) Close() error { return s.db.Close() }
