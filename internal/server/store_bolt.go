package server

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltStore is the durable Store: one bbolt file in the data directory.
// Every Put and Delete commits with fsync before returning; concurrent
// writers share commits through bbolt's Batch (group commit).
type BoltStore struct {
	db *bolt.DB
}

// BoltFileName is the database file inside --data-dir.
const BoltFileName = "nimbus.db"

// OpenBoltStore opens (creating if needed) the store in dir.
func OpenBoltStore(dir string) (*BoltStore, error) {
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
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, k := range storeKinds {
			if _, err := tx.CreateBucketIfNotExists([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise store %s: %w", path, err)
	}
	return &BoltStore{db: db}, nil
}

// Put implements Store.
func (b *BoltStore) Put(kind, tenant, key string, data []byte) error {
	k := storeKey(tenant, key)
	v := append([]byte(nil), data...)
	return b.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(kind)).Put(k, v)
	})
}

// PutAll implements BatchStore: one transaction, one fsync.
func (b *BoltStore) PutAll(writes []StoreWrite) error {
	if len(writes) == 0 {
		return nil
	}
	return b.db.Update(func(tx *bolt.Tx) error {
		for _, w := range writes {
			if err := tx.Bucket([]byte(w.Kind)).Put(storeKey(w.Tenant, w.Key), w.Data); err != nil {
				return err
			}
		}
		return nil
	})
}

// Delete implements Store.
func (b *BoltStore) Delete(kind, tenant, key string) error {
	k := storeKey(tenant, key)
	return b.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(kind)).Delete(k)
	})
}

// Load implements Store.
func (b *BoltStore) Load(kind string, fn func(tenant, key string, data []byte) error) error {
	return b.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(kind)).ForEach(func(k, v []byte) error {
			t, key, ok := splitStoreKey(k)
			if !ok {
				return fmt.Errorf("store: malformed key %q in %s", k, kind)
			}
			return fn(t, key, append([]byte(nil), v...))
		})
	})
}

// Close implements Store.
func (b *BoltStore) Close() error { return b.db.Close() }
