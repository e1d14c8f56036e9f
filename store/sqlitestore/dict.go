package sqlitestore

import (
	"strings"
	"sync"
)

// Dictionary types of log_action, as Matomo numbers them.
const (
	dictURL                uint8 = 1
	dictOutlink            uint8 = 2
	dictDownload           uint8 = 3
	dictTitle              uint8 = 4
	dictSKU                uint8 = 5
	dictProductName        uint8 = 6
	dictCategory           uint8 = 7
	dictSearch             uint8 = 8
	dictEventCategory      uint8 = 10
	dictEventAction        uint8 = 11
	dictEventName          uint8 = 12
	dictContentName        uint8 = 13
	dictContentPiece       uint8 = 14
	dictContentTarget      uint8 = 15
	dictContentInteraction uint8 = 16
)

type dictKey struct {
	typ  uint8
	name string
}

// dictCache maps dictionary names to their log_action ids. It holds only
// ids of committed rows (a batch merges its new ids after COMMIT) that were
// not marked for deletion, under the dictionary epoch it carries:
// DeleteUnusedNames bumps the epoch when it marks entries, and the first
// batch that sees the new epoch empties the cache (reset).
//
// It is bounded by two generations: lookups fill the current map; when it
// is full it becomes the old one and the previous old one is dropped. A hit
// in the old map is promoted. This keeps the recently used names, at most
// max entries, with no per-entry bookkeeping.
type dictCache struct {
	mu       sync.Mutex
	epoch    int64
	half     int
	cur, old map[dictKey]int64
}

func newDictCache(max int) *dictCache {
	half := max / 2
	if half < 1 {
		half = 1
	}
	return &dictCache{half: half, cur: make(map[dictKey]int64)}
}

func (c *dictCache) get(k dictKey) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.cur[k]; ok {
		return id, true
	}
	if id, ok := c.old[k]; ok {
		c.putLocked(k, id)
		return id, true
	}
	return 0, false
}

// fill sets the cached id of every key of ids under one lock and returns
// the keys it does not know.
func (c *dictCache) fill(ids map[dictKey]int64) []dictKey {
	var missing []dictKey
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range ids {
		if id, ok := c.cur[k]; ok {
			ids[k] = id
			continue
		}
		if id, ok := c.old[k]; ok {
			c.putLocked(k, id)
			ids[k] = id
			continue
		}
		missing = append(missing, k)
	}
	return missing
}

// reset empties the cache when epoch differs from its own, and adopts it.
func (c *dictCache) reset(epoch int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		c.epoch = epoch
		c.cur, c.old = make(map[dictKey]int64, c.half), nil
	}
}

// merge adds ids committed under epoch, unless the epoch moved on.
func (c *dictCache) merge(epoch int64, m map[dictKey]int64) {
	if len(m) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch != c.epoch {
		return
	}
	for k, id := range m {
		c.putLocked(k, id)
	}
}

func (c *dictCache) putLocked(k dictKey, id int64) {
	if len(c.cur) >= c.half {
		c.old = c.cur
		c.cur = make(map[dictKey]int64, c.half)
	}
	c.cur[dictKey{k.typ, strings.Clone(k.name)}] = id
}

func (c *dictCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}
