package storeutil

import (
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestGenerationsBound(t *testing.T) {
	for _, size := range []int{0, 1, 2, 10, 11} {
		g := NewGenerations[int, int](size, nil)
		bound := 2 * max(size/2, 1)
		for i := range 100 {
			g.Put(i, i)
			if n := g.Len(); n > bound {
				t.Fatalf("size %d: holds %d entries, bound %d", size, n, bound)
			}
			// The entry used all along stays.
			if i > 0 && bound > 2 {
				if v, ok := g.Get(0); !ok || v != 0 {
					t.Fatalf("size %d: after %d puts the entry used all along was evicted", size, i)
				}
			}
		}
		if v, ok := g.Get(99); !ok || v != 99 {
			t.Errorf("size %d: Get(newest) = %d, %v", size, v, ok)
		}
		if _, ok := g.Get(50); ok {
			t.Errorf("size %d: an old entry is still held beyond the bound", size)
		}
		g.Clear()
		if _, ok := g.Get(99); ok || g.Len() != 0 {
			t.Errorf("size %d: Clear kept %d entries", size, g.Len())
		}
	}
}

func TestGenerationsPromote(t *testing.T) {
	g := NewGenerations[string, int](4, nil) // two per generation
	g.Put("a", 1)
	g.Put("b", 2)
	g.Put("c", 3) // a, b old
	if _, ok := g.Get("a"); !ok {
		t.Fatal("a lost after one rotation")
	}
	// a was promoted: it survives the next rotation, b does not.
	g.Put("d", 4) // cur full (c, a): rotates; b dropped
	if _, ok := g.Get("a"); !ok {
		t.Error("a promoted entry was dropped")
	}
	if _, ok := g.Get("b"); ok {
		t.Error("b survived two rotations without use")
	}
}

func TestGenerationsClone(t *testing.T) {
	g := NewGenerations[DictKey, int](10, cloneKey)
	big := strings.Repeat("x", 1000)
	k := DictKey{DictURL, big[:3]}
	g.Put(k, 1)
	for stored := range g.cur {
		if unsafe.StringData(stored.Name) == unsafe.StringData(big) {
			t.Error("the stored key shares the caller's memory")
		}
	}
	if v, ok := g.Get(DictKey{DictURL, "xxx"}); !ok || v != 1 {
		t.Errorf("Get = %d, %v", v, ok)
	}
}

func TestNameCache(t *testing.T) {
	c := NewNameCache[int64](10, false)
	for i := range 100 {
		c.Merge(0, map[DictKey]int64{{DictURL, strings.Repeat("x", i)}: int64(i)})
		if n := c.Len(); n > 10 {
			t.Fatalf("cache holds %d entries, bound 10", n)
		}
		if i == 0 {
			continue
		}
		if _, ok := c.Get(DictKey{DictURL, ""}); !ok {
			t.Fatalf("after %d inserts the name used all along was evicted", i)
		}
	}
	if id, ok := c.Get(DictKey{DictURL, strings.Repeat("x", 99)}); !ok || id != 99 {
		t.Errorf("Get(newest) = %d, %v", id, ok)
	}
	if _, ok := c.Get(DictKey{DictTitle, strings.Repeat("x", 99)}); ok {
		t.Error("a name of another type hit")
	}
	if _, ok := c.Get(DictKey{DictURL, strings.Repeat("x", 50)}); ok {
		t.Error("an old name is still cached beyond the bound")
	}
}

func TestNameCacheEpoch(t *testing.T) {
	for _, tc := range []struct {
		name        string
		forwardOnly bool
		backward    bool // Reset to an older epoch empties the cache
	}{
		{"any epoch", false, true},
		{"forward only", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewNameCache[uint32](10, tc.forwardOnly)
			k := DictKey{DictURL, "u"}
			c.Reset(3)
			if c.Epoch() != 3 {
				t.Fatalf("Epoch after Reset(3) = %d", c.Epoch())
			}
			c.Merge(3, map[DictKey]uint32{k: 7})
			if id, ok := c.Get(k); !ok || id != 7 {
				t.Fatalf("Get = %d, %v; want 7", id, ok)
			}
			c.Reset(3)
			if _, ok := c.Get(k); !ok {
				t.Error("Reset to the same epoch emptied the cache")
			}
			c.Reset(2)
			if _, ok := c.Get(k); ok != !tc.backward {
				t.Errorf("after Reset to an older epoch the entry is cached: %v", ok)
			}
			if want := map[bool]uint64{true: 2, false: 3}[tc.backward]; c.Epoch() != want {
				t.Errorf("Epoch after Reset(2) = %d, want %d", c.Epoch(), want)
			}
			c.Reset(4)
			if _, ok := c.Get(k); ok || c.Epoch() != 4 {
				t.Errorf("Reset to a newer epoch kept an entry or the epoch (%d)", c.Epoch())
			}
			c.Merge(3, map[DictKey]uint32{k: 7})
			c.Put(3, []DictKey{k}, []uint32{7}, []int{0})
			if _, ok := c.Get(k); ok {
				t.Error("ids from an older epoch were kept")
			}
			c.Put(4, []DictKey{k}, []uint32{8}, []int{0})
			if id, ok := c.Get(k); !ok || id != 8 {
				t.Errorf("Put under the current epoch: Get = %d, %v", id, ok)
			}
		})
	}
}

func TestNameCacheLookupFill(t *testing.T) {
	c := NewNameCache[uint32](100, true)
	a, b, x := DictKey{DictURL, "a"}, DictKey{DictTitle, "b"}, DictKey{DictURL, "x"}
	c.Put(0, []DictKey{a, b}, []uint32{1, 2}, []int{0, 1})

	keys := []DictKey{x, a, b, x}
	ids := make([]uint32, len(keys))
	epoch, missing := c.Lookup(keys, ids)
	if epoch != 0 || len(missing) != 2 || missing[0] != 0 || missing[1] != 3 || ids[1] != 1 || ids[2] != 2 {
		t.Errorf("Lookup = %d, %v, ids %v", epoch, missing, ids)
	}
	// Put adds only the indexes named.
	ids[0] = 9
	c.Put(epoch, keys, ids, []int{0})
	if id, ok := c.Get(x); !ok || id != 9 {
		t.Errorf("after Put, Get(x) = %d, %v", id, ok)
	}

	m := map[DictKey]uint32{a: 0, {DictURL, "new"}: 0}
	got := c.Fill(m)
	if len(got) != 1 || got[0] != (DictKey{DictURL, "new"}) || m[a] != 1 {
		t.Errorf("Fill = %v, map %v", got, m)
	}
	c.Merge(0, nil) // no-op
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}
}

func TestNameCacheConcurrent(t *testing.T) {
	c := NewNameCache[int64](64, false)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := DictKey{DictURL, strings.Repeat("y", i%50)}
				c.Merge(c.Epoch(), map[DictKey]int64{k: int64(i)})
				c.Fill(map[DictKey]int64{k: 0})
				if i%100 == 0 {
					c.Reset(uint64(g*1000 + i))
				}
			}
		}()
	}
	wg.Wait()
	if n := c.Len(); n > 64 {
		t.Errorf("cache holds %d entries, bound 64", n)
	}
}
