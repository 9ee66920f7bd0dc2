// Package store is the Nimbus server's persistence layer: opaque JSON
// documents keyed by (kind, tenant, key) — a kind is a collection such as
// "services", a key a service name, sandbox id or session id — behind one
// interface, Store, with two implementations: Bolt (one bbolt file with
// fsync per commit and group commit through bbolt's Batch) and Mem (in
// memory, for tests and --dev).
//
// The interface is shaped so that a networked store could satisfy it later
// — the way this server would grow past one machine:
//
//   - transactions: Update applies many writes atomically and durably (a
//     PostgreSQL transaction, an etcd Txn);
//   - ordered range scans from a key: Scan walks one kind in (tenant, key)
//     order, optionally within one tenant from a given key (an index range
//     scan, an etcd range request with a start key);
//   - change notification: Watch delivers every committed change (LISTEN /
//     NOTIFY, an etcd watch), so a second server instance could keep its
//     in-memory copy current.
//
// The domain layer (internal/server/domain) keeps every object in memory,
// serialises writers per object and uses the store as its durable log; it
// reads the store only when it starts. PutJSON and ScanJSON are the typed
// helpers it uses instead of one marshal/unmarshal copy per kind.
package store
