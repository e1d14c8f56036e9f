package mysqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"github.com/footfall/analytics/store/internal/storeutil"
	"strings"
	"sync"
)

// nameHash is log_action.hash: the first 16 bytes of SHA-256 over the type
// byte and the name.
func nameHash(k storeutil.DictKey) [16]byte {
	h := sha256.New()
	h.Write([]byte{k.Type})
	h.Write([]byte(k.Name))
	var sum [32]byte
	var out [16]byte
	copy(out[:], h.Sum(sum[:0]))
	return out
}

// newNameCache returns the cache of dictionary names to log_action ids.
// Every id in it was committed and not pending deletion when it was
// read, under the dictionary epoch the cache carries: when
// DeleteUnusedNames bumps the epoch, the first batch that notices empties
// the cache (see SCHEMA.md). Writers may report an epoch they read before
// another writer moved the cache on, so it only moves forward.
func newNameCache(size int) *storeutil.NameCache[uint32] {
	return storeutil.NewNameCache[uint32](size, true)
}

// idCache maps log_action ids to names for reads. An id never changes its
// name (ids are not reused), so entries never go stale.
type idCache struct {
	mu   sync.Mutex
	gens *storeutil.Generations[uint32, string]
}

func newIDCache(size int) *idCache {
	return &idCache{gens: storeutil.NewGenerations[uint32, string](size, nil)}
}

func (c *idCache) get(id uint32) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens.Get(id)
}

func (c *idCache) put(id uint32, name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gens.Put(id, name)
}

// Statement size bounds of dictionary work.
const (
	dictSelectChunk = 1000
	dictInsertBytes = 1 << 20
)

// resolveNames fills ids with the log_action ids of keys, from the cache
// or the database, inserting the names that are new. It runs in
// autocommit, outside any batch transaction, so that the dictionary rows
// of one shard's batch never wait for another shard's commit; a row it
// inserts for a batch that then fails is an unused entry, harmless.
// It costs one round trip when names are missing from the cache, two when
// some are new (INSERT IGNORE and SELECT go in one multi-statement).
// It returns the dictionary epoch the ids are valid under.
func (s *Store) resolveNames(ctx context.Context, keys []storeutil.DictKey, ids []uint32) (uint64, error) {
	epoch, missing := s.names.Lookup(keys, ids)
	if len(missing) == 0 {
		return epoch, nil
	}
	hashes := make([][16]byte, len(keys))
	for _, i := range missing {
		hashes[i] = nameHash(keys[i])
	}
	todo := missing
	// With a warm cache the names it lacks are mostly new: insert at once
	// (one round trip). With a cold one (a restart) most exist: look first,
	// so that INSERT IGNORE spends no AUTO_INCREMENT values on them.
	insert := len(missing)*10 <= len(keys)
	var resolved []int
	for round := 0; len(todo) > 0; round++ {
		if round == 4 {
			return 0, fmt.Errorf("dictionary: %d names still unresolved after %d rounds (concurrent pruning?)", len(todo), round)
		}
		found, revive, err := s.queryNames(ctx, keys, todo, hashes, ids, insert)
		if err != nil {
			return 0, err
		}
		var next []int
		for _, i := range todo {
			if !found[i] {
				next = append(next, i)
			}
		}
		if len(revive) > 0 {
			// Entries found pending deletion are taken back; one deleted
			// in the meantime is inserted again in the next round.
			ok, err := s.reviveNames(ctx, revive, ids)
			if err != nil {
				return 0, err
			}
			for _, i := range revive {
				if !ok[ids[i]] {
					next = append(next, i)
					delete(found, i)
				}
			}
		}
		for i := range found {
			resolved = append(resolved, i)
		}
		todo, insert = next, true
	}
	s.names.Put(epoch, keys, ids, resolved)
	return epoch, nil
}

// queryNames looks up the hashes of todo, after inserting their names
// (INSERT IGNORE, in the same multi-statement) when insert is set. It sets
// ids for those found and reports which were found, and which of those
// are pending deletion.
func (s *Store) queryNames(ctx context.Context, keys []storeutil.DictKey, todo []int, hashes [][16]byte, ids []uint32, insert bool) (found map[int]bool, revive []int, err error) {
	byHash := make(map[[16]byte]int, len(todo))
	for _, i := range todo {
		byHash[hashes[i]] = i
	}
	found = make(map[int]bool, len(todo))
	var q []byte
	for start := 0; start < len(todo); {
		q = q[:0]
		end, size := start, 0
		for end < len(todo) && end-start < dictSelectChunk && size < dictInsertBytes {
			size += 2*len(keys[todo[end]].Name) + 96 // hex when the name is not plain text
			end++
		}
		part := todo[start:end]
		start = end
		// Values as literals (appendLiteral), no arguments to interpolate.
		if insert {
			q = append(q, "INSERT IGNORE INTO log_action (hash, type, name) VALUES "...)
			for j, i := range part {
				if j > 0 {
					q = append(q, ',')
				}
				q = append(q, '(')
				q = appendHex(q, hashes[i][:])
				q = append(q, ',')
				q = appendLiteral(q, int64(keys[i].Type))
				q = append(q, ',')
				q = appendLiteral(q, keys[i].Name)
				q = append(q, ')')
			}
			q = append(q, ";\n"...)
		}
		q = append(q, "SELECT idaction, hash, prune_pending FROM log_action WHERE hash IN ("...)
		for j, i := range part {
			if j > 0 {
				q = append(q, ',')
			}
			q = appendHex(q, hashes[i][:])
		}
		q = append(q, ')')
		rows, err := s.db.QueryContext(ctx, string(q))
		if err != nil {
			return nil, nil, err
		}
		for {
			if cols, _ := rows.Columns(); len(cols) == 3 {
				for rows.Next() {
					var id uint32
					var h []byte
					var pending bool
					if err := rows.Scan(&id, &h, &pending); err != nil {
						rows.Close()
						return nil, nil, err
					}
					i, ok := byHash[[16]byte(h)]
					if !ok {
						continue
					}
					ids[i] = id
					found[i] = true
					if pending {
						revive = append(revive, i)
					}
				}
			}
			if !rows.NextResultSet() {
				break
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return found, revive, nil
}

// reviveNames clears prune_pending of the entries of which; it reports the
// ids that still exist.
func (s *Store) reviveNames(ctx context.Context, which []int, ids []uint32) (map[uint32]bool, error) {
	list := make([]int64, len(which))
	for j, i := range which {
		list[j] = int64(ids[i])
	}
	in := int64List(list)
	rows, err := s.db.QueryContext(ctx, "UPDATE log_action SET prune_pending = 0 WHERE idaction IN ("+in+");\n"+
		"SELECT idaction FROM log_action WHERE idaction IN ("+in+") AND prune_pending = 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ok := make(map[uint32]bool, len(which))
	for {
		if cols, _ := rows.Columns(); len(cols) == 1 {
			for rows.Next() {
				var id uint32
				if err := rows.Scan(&id); err != nil {
					return nil, err
				}
				ok[id] = true
			}
		}
		if !rows.NextResultSet() {
			break
		}
	}
	return ok, rows.Err()
}

// readEpoch returns the current dictionary epoch.
func (s *Store) readEpoch(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (uint64, error) {
	var e uint64
	err := q.QueryRowContext(ctx, "SELECT epoch FROM dict_epoch WHERE id = 1").Scan(&e)
	return e, err
}

// names resolves ids to names for reads, from the cache or one query per
// chunk of unknown ids; q runs the query (a transaction's or the pool's).
func (s *Store) lookupIDs(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, want map[uint32]string) error {
	var unknown []uint32
	for id := range want {
		if id == 0 {
			want[id] = ""
			continue
		}
		if n, ok := s.ids.get(id); ok {
			want[id] = n
			continue
		}
		unknown = append(unknown, id)
	}
	for start := 0; start < len(unknown); start += dictSelectChunk {
		part := unknown[start:min(start+dictSelectChunk, len(unknown))]
		var b strings.Builder
		b.WriteString("SELECT idaction, name FROM log_action WHERE idaction IN (")
		for j, id := range part {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, id)
		}
		b.WriteByte(')')
		rows, err := q.QueryContext(ctx, b.String())
		if err != nil {
			return err
		}
		for rows.Next() {
			var id uint32
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return err
			}
			want[id] = name
			s.ids.put(id, name)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
