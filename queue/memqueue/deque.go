package memqueue

// blockLen is the number of entries per block (about 15 KB).
const blockLen = 32

// block is a fixed run of entries in a deque.
type block struct {
	e    [blockLen]entry
	next *block
}

// deque is a FIFO of entries in linked blocks. Growing never copies
// entries, memory follows the length, and one spare block is kept so that
// a queue hovering around a block boundary allocates nothing.
type deque struct {
	head, tail *block
	hi         int // the oldest entry is head.e[hi]
	ti         int // the next entry goes to tail.e[ti]
	n          int
	spare      *block
}

// push appends a zero entry and returns it.
func (d *deque) push() *entry {
	if d.tail == nil || d.ti == blockLen {
		b := d.spare
		if b != nil {
			d.spare = nil
		} else {
			b = new(block)
		}
		if d.tail == nil {
			d.head, d.hi = b, 0
		} else {
			d.tail.next = b
		}
		d.tail, d.ti = b, 0
	}
	e := &d.tail.e[d.ti]
	d.ti++
	d.n++
	return e
}

// at returns the i-th oldest entry; i < n.
func (d *deque) at(i int) *entry {
	i += d.hi
	b := d.head
	for i >= blockLen {
		b = b.next
		i -= blockLen
	}
	return &b.e[i]
}

// dropFront removes the k oldest entries, zeroing them so that the hits
// they point to can be collected.
func (d *deque) dropFront(k int) {
	for range k {
		d.head.e[d.hi] = entry{}
		d.hi++
		d.n--
		if d.hi == blockLen {
			b := d.head
			d.head, d.hi = b.next, 0
			b.next = nil
			if d.head == nil {
				d.tail, d.ti = nil, 0
			}
			if d.spare == nil {
				d.spare = b // already zeroed
			}
		}
	}
	if d.n == 0 && d.head != nil {
		d.hi, d.ti = 0, 0 // head == tail: start it over
	}
}

// iter walks entries from the oldest.
type iter struct {
	b *block
	i int
}

func (d *deque) iter() iter { return iter{d.head, d.hi} }

// next returns the next entry; the caller knows how many there are.
func (it *iter) next() *entry {
	if it.i == blockLen {
		it.b, it.i = it.b.next, 0
	}
	e := &it.b.e[it.i]
	it.i++
	return e
}
