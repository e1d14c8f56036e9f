package storeutil

import (
	"strings"
	"sync"
)

// Dictionary types of log_action, as Matomo numbers them.
const (
	DictURL                uint8 = 1
	DictOutlink            uint8 = 2
	DictDownload           uint8 = 3
	DictTitle              uint8 = 4
	DictSKU                uint8 = 5
	DictProductName        uint8 = 6
	DictCategory           uint8 = 7
	DictSearch             uint8 = 8
	DictEventCategory      uint8 = 10
	DictEventAction        uint8 = 11
	DictEventName          uint8 = 12
	DictContentName        uint8 = 13
	DictContentPiece       uint8 = 14
	DictContentTarget      uint8 = 15
	DictContentInteraction uint8 = 16
)

// DictKey is an entry of the action dictionary: a name of a type.
type DictKey struct {
	Type uint8
	Name string
}

// cloneKey copies the name, so that a cached key does not keep the
// memory of the batch it came from.
func cloneKey(k DictKey) DictKey { return DictKey{k.Type, strings.Clone(k.Name)} }

// Generations is a map bounded by two generations: Put fills the current
// map; when it is full it becomes the old one and the previous old one is
// dropped; Get promotes a hit in the old map. It keeps the recently used
// entries, at most size of them, with no per-entry bookkeeping. It is not
// safe for concurrent use.
type Generations[K comparable, V any] struct {
	half     int
	cur, old map[K]V
	clone    func(K) K
}

// NewGenerations returns an empty map of at most size entries (at least
// 2). clone, when not nil, copies a key before it is stored.
func NewGenerations[K comparable, V any](size int, clone func(K) K) *Generations[K, V] {
	return &Generations[K, V]{half: max(size/2, 1), cur: make(map[K]V), clone: clone}
}

// Get returns the value of k, promoting it when it was in the old
// generation.
func (g *Generations[K, V]) Get(k K) (V, bool) {
	if v, ok := g.cur[k]; ok {
		return v, true
	}
	if v, ok := g.old[k]; ok {
		g.Put(k, v)
		return v, true
	}
	var zero V
	return zero, false
}

// Put stores v for k in the current generation, first turning a full
// current generation into the old one.
func (g *Generations[K, V]) Put(k K, v V) {
	if len(g.cur) >= g.half {
		g.old = g.cur
		g.cur = make(map[K]V, g.half)
	}
	if g.clone != nil {
		k = g.clone(k)
	}
	g.cur[k] = v
}

// Len is the number of entries held.
func (g *Generations[K, V]) Len() int { return len(g.cur) + len(g.old) }

// Clear drops every entry.
func (g *Generations[K, V]) Clear() { g.cur, g.old = make(map[K]V), nil }

// NameCache maps dictionary names to their log_action ids for writers. It
// is tagged with the dictionary epoch it was filled under: the ids it
// holds are of committed entries that were not marked for deletion (see
// the stores' DeleteUnusedNames) under that epoch. When the store sees a
// new epoch it calls Reset, which empties the cache; ids read under an
// older epoch are not added (Put, Merge). It holds at most size entries
// (Generations). Safe for concurrent use.
type NameCache[V any] struct {
	mu          sync.Mutex
	epoch       uint64
	forwardOnly bool
	gens        *Generations[DictKey, V]
}

// NewNameCache returns an empty cache of at most size entries under epoch
// 0. With forwardOnly, Reset adopts only a newer epoch than the cache's
// (for a store whose writers may report an epoch they read a while ago);
// otherwise any other epoch.
func NewNameCache[V any](size int, forwardOnly bool) *NameCache[V] {
	return &NameCache[V]{forwardOnly: forwardOnly, gens: NewGenerations[DictKey, V](size, cloneKey)}
}

// Epoch is the cache's current epoch.
func (c *NameCache[V]) Epoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// Reset empties the cache and adopts epoch when it differs from the
// cache's (is newer, with forwardOnly).
func (c *NameCache[V]) Reset(epoch uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch > c.epoch || !c.forwardOnly && epoch != c.epoch {
		c.epoch = epoch
		c.gens.Clear()
	}
}

// Get returns the id of k.
func (c *NameCache[V]) Get(k DictKey) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens.Get(k)
}

// Len is the number of names held.
func (c *NameCache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gens.Len()
}

// Lookup sets ids[i] for every keys[i] the cache holds, under one lock,
// and returns the cache's epoch and the indexes of the keys it lacks.
func (c *NameCache[V]) Lookup(keys []DictKey, ids []V) (epoch uint64, missing []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range keys {
		if id, ok := c.gens.Get(k); ok {
			ids[i] = id
			continue
		}
		missing = append(missing, i)
	}
	return c.epoch, missing
}

// Put adds (keys[i], ids[i]) for every i of which, read under epoch,
// unless the cache's epoch has moved on since.
func (c *NameCache[V]) Put(epoch uint64, keys []DictKey, ids []V, which []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	for _, i := range which {
		c.gens.Put(keys[i], ids[i])
	}
}

// Fill sets the id of every key of m the cache holds, under one lock, and
// returns the keys it lacks.
func (c *NameCache[V]) Fill(m map[DictKey]V) (missing []DictKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range m {
		if id, ok := c.gens.Get(k); ok {
			m[k] = id
			continue
		}
		missing = append(missing, k)
	}
	return missing
}

// Merge adds the entries of m, read under epoch, unless the cache's epoch
// has moved on since.
func (c *NameCache[V]) Merge(epoch uint64, m map[DictKey]V) {
	if len(m) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	for k, id := range m {
		c.gens.Put(k, id)
	}
}
