package spool

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/queue/hitcodec"
)

var _ analytics.Queue = (*Queue)(nil)

// Replayer is an optional capability of the inner queue: replay spooled
// records exactly once. In one atomic step it skips the records with a
// Seq at or below the highest Seq it has accepted from this spool before
// and the records whose Token names an Enqueue round trip it did accept,
// enqueues the rest, and remembers the batch's highest Seq. redisqueue
// implements it.
type Replayer interface {
	EnqueueSpooled(ctx context.Context, b Batch) error
}

// Uncertain is implemented by errors of an inner Enqueue that failed
// after sending: the hits may have been accepted. The token is kept with
// the spooled record and given back to the Replayer.
type Uncertain interface {
	EnqueueToken() string
}

// Batch is a run of consecutive spooled records.
type Batch struct {
	Spool   string   // stable ID of the spool (kept in its directory)
	Records []Record // in spool order, Seq strictly increasing
}

// Record is what one Enqueue put in the spool.
type Record struct {
	Seq   uint64
	Token string // the Uncertain token of the failed inner Enqueue, or ""
	Hits  []analytics.Hit
}

// Options configure a spool.
type Options struct {
	// Dir holds the segment files; it is created if missing. One process
	// at a time may use it (a lock file enforces that). Required.
	Dir string
	// MaxBytes bounds the spool on disk; past it Enqueue fails with
	// ErrUnavailable (ingest answers 503). Default: 1 GiB.
	MaxBytes int64
	// SegmentBytes is the size at which a new segment file is started; a
	// segment is deleted once all its records are replayed.
	// Default: 64 MiB.
	SegmentBytes int64
	// RetryInterval is how long the spool waits after the inner queue
	// failed before it tries it again (the breaker), both for new hits and
	// for the replay. Default: 1s.
	RetryInterval time.Duration
	// ReplayBatch is how many hits one replay call carries at most.
	// Default: 500.
	ReplayBatch int
	// Logger receives spooling, replay and recovery events.
	// Default: a null logger.
	Logger hclog.Logger
}

func (o *Options) setDefaults() {
	if o.MaxBytes == 0 {
		o.MaxBytes = 1 << 30
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = 64 << 20
	}
	if o.RetryInterval == 0 {
		o.RetryInterval = time.Second
	}
	if o.ReplayBatch == 0 {
		o.ReplayBatch = 500
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
}

// Validate reports the first invalid field, wrapping analytics.ErrInvalid.
func (o *Options) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("spool: options: "+format+": %w", append(args, analytics.ErrInvalid)...)
	}
	switch {
	case o.Dir == "":
		return bad("no directory")
	case o.MaxBytes < 4096:
		return bad("max bytes %d below 4096", o.MaxBytes)
	case o.SegmentBytes < 4096 || o.SegmentBytes > o.MaxBytes:
		return bad("segment bytes %d not in 4096..max bytes", o.SegmentBytes)
	case o.RetryInterval < time.Millisecond:
		return bad("retry interval %v below 1ms", o.RetryInterval)
	case o.ReplayBatch < 1:
		return bad("replay batch %d below 1", o.ReplayBatch)
	}
	return nil
}

// Queue is a Queue decorator that spools to local disk while the inner
// queue is unavailable. See the package documentation.
type Queue struct {
	inner analytics.Queue
	opts  Options
	log   hclog.Logger
	id    string
	lock  *os.File

	mu      sync.Mutex
	closed  bool
	segs    []*segment // oldest first; the last one takes appends
	active  *os.File   // open for append on segs[len-1], or nil
	nextSeq uint64
	bytes   int64 // on disk
	hits    int64 // spooled, not yet replayed
	records int64
	breaker time.Time // inner is not tried for new hits before this
	wake    chan struct{}

	syncMu sync.Mutex
	synced atomic.Uint64 // records up to this Seq are on disk

	stop    chan struct{}
	running sync.WaitGroup
}

// segment is one file of records.
type segment struct {
	path  string
	size  int64  // bytes of complete records
	last  uint64 // Seq of its last record (0 = none)
	read  int64  // replayed up to this offset
	first uint64
}

const (
	recHeader = 8 // length (4) + CRC32C (4)
	maxRecord = 64 << 20
	idFile    = "spool.id"
	lockFile  = "lock"
	segSuffix = ".seg"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// New opens (or creates) the spool in opts.Dir in front of inner. Records
// left by an earlier process are recovered: a torn last record (a crash
// mid-write) is detected by its CRC, logged and truncated away; the good
// records are replayed by Run. Close closes inner too.
func New(inner analytics.Queue, opts Options) (*Queue, error) {
	if inner == nil {
		return nil, fmt.Errorf("spool: nil inner queue: %w", analytics.ErrInvalid)
	}
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool: %w: %w", analytics.ErrUnavailable, err)
	}
	lock, err := lockDir(filepath.Join(opts.Dir, lockFile))
	if err != nil {
		return nil, err
	}
	q := &Queue{
		inner: inner,
		opts:  opts,
		log:   opts.Logger.Named("spool"),
		lock:  lock,
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
	}
	if q.id, err = readOrCreateID(opts.Dir); err != nil {
		lock.Close()
		return nil, err
	}
	if err := q.recover(); err != nil {
		lock.Close()
		return nil, err
	}
	q.synced.Store(q.nextSeq - 1)
	return q, nil
}

// ID returns the spool's stable ID (kept in its directory).
func (q *Queue) ID() string { return q.id }

func readOrCreateID(dir string) (string, error) {
	path := filepath.Join(dir, idFile)
	if b, err := os.ReadFile(path); err == nil {
		id := strings.TrimSpace(string(b))
		if id != "" {
			return id, nil
		}
	}
	var b [8]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, []byte(id+"\n")); err != nil {
		return "", fmt.Errorf("spool: write id: %w: %w", analytics.ErrUnavailable, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("spool: write id: %w: %w", analytics.ErrUnavailable, err)
	}
	syncDir(dir)
	return id, nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// recover scans the segment files, truncating at the first bad record.
func (q *Queue) recover() error {
	names, err := filepath.Glob(filepath.Join(q.opts.Dir, "*"+segSuffix))
	if err != nil {
		return fmt.Errorf("spool: %w: %w", analytics.ErrUnavailable, err)
	}
	type named struct {
		path  string
		first uint64
	}
	var files []named
	for _, p := range names {
		base := strings.TrimSuffix(filepath.Base(p), segSuffix)
		first, err := strconv.ParseUint(base, 10, 64)
		if err != nil {
			q.log.Warn("ignoring a file that is not a segment", "path", p)
			continue
		}
		files = append(files, named{p, first})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].first < files[j].first })
	q.nextSeq = 1
	for _, f := range files {
		seg := &segment{path: f.path, first: f.first}
		if err := q.scan(seg); err != nil {
			return err
		}
		if seg.size == 0 {
			os.Remove(seg.path)
			continue
		}
		q.segs = append(q.segs, seg)
		q.bytes += seg.size
		q.nextSeq = max(q.nextSeq, seg.last+1)
	}
	if q.records > 0 {
		q.log.Info("spool holds hits from an earlier run; they will be replayed", "hits", q.hits, "bytes", q.bytes, "segments", len(q.segs))
	}
	return nil
}

// scan validates seg's records, counts them and truncates a bad tail.
func (q *Queue) scan(seg *segment) error {
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("spool: open %s: %w: %w", seg.path, analytics.ErrUnavailable, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("spool: stat %s: %w: %w", seg.path, analytics.ErrUnavailable, err)
	}
	r := bufio.NewReaderSize(f, 1<<16)
	var off int64
	var prev uint64
	for {
		payload, n, err := readRecord(r)
		if err == io.EOF {
			break
		}
		var rec Record
		if err == nil {
			rec, err = decodeRecord(payload, false)
		}
		if err == nil && rec.Seq <= prev {
			err = fmt.Errorf("sequence %d after %d", rec.Seq, prev)
		}
		if err != nil {
			q.log.Warn("dropping a torn or corrupt spool record and everything after it in its segment",
				"segment", seg.path, "offset", off, "dropped_bytes", st.Size()-off, "error", err)
			if err := f.Truncate(off); err != nil {
				return fmt.Errorf("spool: truncate %s: %w: %w", seg.path, analytics.ErrUnavailable, err)
			}
			f.Sync()
			break
		}
		prev = rec.Seq
		seg.last = rec.Seq
		q.records++
		q.hits += int64(len(rec.Hits))
		off += int64(n)
	}
	seg.size = off
	return nil
}

// readRecord reads one framed record: length, CRC32C, payload.
func readRecord(r io.Reader) (payload []byte, n int, err error) {
	var h [recHeader]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		return nil, 0, fmt.Errorf("short header: %w", err)
	}
	size := binary.LittleEndian.Uint32(h[:4])
	if size == 0 || size > maxRecord {
		return nil, 0, fmt.Errorf("record length %d", size)
	}
	payload = make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, 0, fmt.Errorf("short record: %w", err)
	}
	if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(h[4:]) {
		return nil, 0, errors.New("CRC mismatch")
	}
	return payload, recHeader + int(size), nil
}

// encodeRecord frames a record: payload = uvarint seq, token, uvarint
// count, then each hit as uvarint length + hitcodec bytes.
func encodeRecord(seq uint64, token string, hits []analytics.Hit) []byte {
	b := make([]byte, recHeader, recHeader+64+256*len(hits))
	b = binary.AppendUvarint(b, seq)
	b = binary.AppendUvarint(b, uint64(len(token)))
	b = append(b, token...)
	b = binary.AppendUvarint(b, uint64(len(hits)))
	var scratch []byte
	for i := range hits {
		scratch = hitcodec.Append(scratch[:0], &hits[i])
		b = binary.AppendUvarint(b, uint64(len(scratch)))
		b = append(b, scratch...)
	}
	p := b[recHeader:]
	binary.LittleEndian.PutUint32(b[:4], uint32(len(p)))
	binary.LittleEndian.PutUint32(b[4:8], crc32.Checksum(p, crcTable))
	return b
}

// decodeRecord decodes a payload; with full unset the hits are counted,
// not decoded.
func decodeRecord(p []byte, full bool) (Record, error) {
	var rec Record
	i := 0
	next := func() (uint64, error) {
		v, n := binary.Uvarint(p[i:])
		if n <= 0 {
			return 0, errors.New("bad varint")
		}
		i += n
		return v, nil
	}
	var err error
	if rec.Seq, err = next(); err != nil {
		return rec, err
	}
	tl, err := next()
	if err != nil || tl > uint64(len(p)-i) {
		return rec, errors.New("bad token")
	}
	rec.Token = string(p[i : i+int(tl)])
	i += int(tl)
	count, err := next()
	if err != nil || count > uint64(len(p)-i) {
		return rec, errors.New("bad hit count")
	}
	rec.Hits = make([]analytics.Hit, count)
	for k := range rec.Hits {
		hl, err := next()
		if err != nil || hl > uint64(len(p)-i) {
			return rec, errors.New("bad hit length")
		}
		if full {
			h, err := hitcodec.Decode(p[i : i+int(hl)])
			if err != nil {
				return rec, err
			}
			rec.Hits[k] = h
		}
		i += int(hl)
	}
	if i != len(p) {
		return rec, errors.New("trailing bytes")
	}
	return rec, nil
}

// Enqueue gives hits to the inner queue. When that fails with
// ErrUnavailable (or failed less than RetryInterval ago), or while the
// spool holds hits (to keep their order), the hits are appended to the
// spool and fsynced instead, and Enqueue returns nil. A full spool is
// ErrUnavailable: never a silent drop. Other errors of the inner queue
// are returned as they are.
func (q *Queue) Enqueue(ctx context.Context, hits []analytics.Hit) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return fmt.Errorf("spool: enqueue: %w", analytics.ErrClosed)
	}
	if len(hits) == 0 {
		q.mu.Unlock()
		return nil
	}
	if q.records > 0 || time.Now().Before(q.breaker) {
		return q.spoolLocked(hits, "")
	}
	q.mu.Unlock()
	err := q.inner.Enqueue(ctx, hits)
	if err == nil || !errors.Is(err, analytics.ErrUnavailable) {
		return err
	}
	var u Uncertain
	token := ""
	if errors.As(err, &u) {
		token = u.EnqueueToken()
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return fmt.Errorf("spool: enqueue: %w", analytics.ErrClosed)
	}
	if time.Now().After(q.breaker) {
		q.log.Warn("inner queue unavailable; spooling to disk", "error", err)
	}
	q.breaker = time.Now().Add(q.opts.RetryInterval)
	return q.spoolLocked(hits, token)
}

// spoolLocked appends a record (mu held; it unlocks) and waits until it
// is on disk.
func (q *Queue) spoolLocked(hits []analytics.Hit, token string) error {
	seq := q.nextSeq
	rec := encodeRecord(seq, token, hits)
	if err := q.appendLocked(seq, rec, len(hits)); err != nil {
		q.mu.Unlock()
		return err
	}
	f := q.active
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return q.syncTo(seq, f)
}

func (q *Queue) appendLocked(seq uint64, rec []byte, hits int) error {
	n := int64(len(rec))
	if q.bytes+n > q.opts.MaxBytes {
		return fmt.Errorf("spool: full (%d of %d bytes): %w", q.bytes, q.opts.MaxBytes, analytics.ErrUnavailable)
	}
	if q.active == nil || q.segs[len(q.segs)-1].size+n > q.opts.SegmentBytes {
		if err := q.rotateLocked(seq); err != nil {
			return err
		}
	}
	seg := q.segs[len(q.segs)-1]
	if _, err := q.active.Write(rec); err != nil {
		// A partial write is truncated away so the file stays framed.
		q.active.Truncate(seg.size)
		q.active.Seek(seg.size, io.SeekStart)
		return fmt.Errorf("spool: write: %w: %w", analytics.ErrUnavailable, err)
	}
	seg.size += n
	seg.last = seq
	q.nextSeq = seq + 1
	q.bytes += n
	q.hits += int64(hits)
	q.records++
	return nil
}

// rotateLocked syncs and closes the active segment and starts a new one,
// or reopens the last segment when there is room in it.
func (q *Queue) rotateLocked(seq uint64) error {
	if q.active != nil {
		if err := q.active.Sync(); err != nil {
			return fmt.Errorf("spool: sync: %w: %w", analytics.ErrUnavailable, err)
		}
		q.active.Close()
		q.active = nil
		q.markSynced(seq - 1)
	} else if n := len(q.segs); n > 0 && q.segs[n-1].size < q.opts.SegmentBytes {
		f, err := os.OpenFile(q.segs[n-1].path, os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			q.active = f
			return nil
		}
	}
	path := filepath.Join(q.opts.Dir, fmt.Sprintf("%020d%s", seq, segSuffix))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("spool: new segment: %w: %w", analytics.ErrUnavailable, err)
	}
	syncDir(q.opts.Dir)
	q.active = f
	q.segs = append(q.segs, &segment{path: path, first: seq})
	return nil
}

func (q *Queue) markSynced(seq uint64) {
	for {
		cur := q.synced.Load()
		if seq <= cur || q.synced.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// syncTo returns once record seq (written to f) is on disk. Concurrent
// callers share one fsync.
func (q *Queue) syncTo(seq uint64, f *os.File) error {
	if q.synced.Load() >= seq {
		return nil
	}
	q.syncMu.Lock()
	defer q.syncMu.Unlock()
	if q.synced.Load() >= seq {
		return nil
	}
	q.mu.Lock()
	upto := q.nextSeq - 1
	if q.active != f { // rotated, replayed or closed: marked synced then
		q.mu.Unlock()
		if q.synced.Load() >= seq {
			return nil
		}
		return fmt.Errorf("spool: sync: segment closed before it was synced: %w", analytics.ErrUnavailable)
	}
	q.mu.Unlock()
	if err := f.Sync(); err != nil {
		if q.synced.Load() >= seq {
			return nil
		}
		return fmt.Errorf("spool: sync: %w: %w", analytics.ErrUnavailable, err)
	}
	q.markSynced(upto)
	return nil
}

// Run replays spooled hits into the inner queue, oldest first, whenever
// the spool holds any and the inner queue accepts them; it deletes a
// segment file once all its records are accepted. It returns nil after
// Close, or ctx.Err(). Run one at a time.
func (q *Queue) Run(ctx context.Context) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.running.Add(1)
	q.mu.Unlock()
	defer q.running.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-q.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	var reader *segReader
	defer func() { reader.close() }()
	for {
		select {
		case <-q.stop:
			return nil
		default:
		}
		n, err := q.replayOnce(ctx, &reader)
		switch {
		case err != nil:
			select {
			case <-q.stop:
				return nil
			default:
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, analytics.ErrClosed) {
				return nil
			}
			q.log.Warn("replay failed; retrying", "error", err, "retry_in", q.opts.RetryInterval)
			if !sleep(ctx, q.stop, q.opts.RetryInterval) {
				return q.runEnd(ctx)
			}
		case n == 0:
			select {
			case <-q.wake:
			case <-q.stop:
				return nil
			case <-ctx.Done():
				return q.runEnd(ctx)
			}
		}
	}
}

func (q *Queue) runEnd(ctx context.Context) error {
	select {
	case <-q.stop:
		return nil
	default:
		return ctx.Err()
	}
}

func sleep(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// segReader reads records of one segment from its replay offset.
type segReader struct {
	seg *segment
	f   *os.File
	off int64
}

func (r *segReader) close() {
	if r != nil && r.f != nil {
		r.f.Close()
	}
}

// replayOnce replays one batch and reports how many records it took.
func (q *Queue) replayOnce(ctx context.Context, rp **segReader) (int, error) {
	q.mu.Lock()
	if q.records == 0 || len(q.segs) == 0 {
		q.mu.Unlock()
		return 0, nil
	}
	seg := q.segs[0]
	limit := seg.size // complete records only
	q.mu.Unlock()

	r := *rp
	if r == nil || r.seg != seg {
		r.close()
		f, err := os.Open(seg.path)
		if err != nil {
			return 0, fmt.Errorf("spool: open %s: %w: %w", seg.path, analytics.ErrUnavailable, err)
		}
		r = &segReader{seg: seg, f: f, off: seg.read}
		*rp = r
	}
	// Read only up to the complete records counted under the lock: an
	// append may be in progress past them.
	br := bufio.NewReaderSize(io.NewSectionReader(r.f, r.off, limit-r.off), 1<<16)
	var batch Batch
	batch.Spool = q.id
	hits, end := 0, r.off
	for end < limit && hits < q.opts.ReplayBatch {
		payload, n, err := readRecord(br)
		if err != nil {
			// Validated at open and written whole since: the file was
			// damaged underneath us. Skip the rest of the segment.
			q.log.Error("unreadable spool record; skipping the rest of the segment", "segment", seg.path, "offset", end, "error", err)
			end = limit
			break
		}
		rec, err := decodeRecord(payload, true)
		if err != nil {
			q.log.Error("undecodable spool record; skipping it", "segment", seg.path, "offset", end, "error", err)
			end += int64(n)
			continue
		}
		batch.Records = append(batch.Records, rec)
		hits += len(rec.Hits)
		end += int64(n)
	}
	if len(batch.Records) > 0 {
		if err := q.deliver(ctx, batch); err != nil {
			// Re-read from the replay offset next time.
			r.close()
			*rp = nil
			return 0, err
		}
	}
	r.off = end
	return len(batch.Records), q.advance(seg, end, int64(len(batch.Records)), int64(hits))
}

func (q *Queue) deliver(ctx context.Context, b Batch) error {
	if rp, ok := q.inner.(Replayer); ok {
		return rp.EnqueueSpooled(ctx, b)
	}
	var hits []analytics.Hit
	for _, r := range b.Records {
		hits = append(hits, r.Hits...)
	}
	return q.inner.Enqueue(ctx, hits)
}

// advance records that seg is replayed up to off, deleting it once it is
// done and no longer appended to.
func (q *Queue) advance(seg *segment, off, records, hits int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	seg.read = off
	q.records -= records
	q.hits -= hits
	if seg.read < seg.size {
		return nil
	}
	last := len(q.segs) == 1
	if last && q.records > 0 {
		return nil
	}
	if last {
		// The spool is empty: drop the active segment too. Its records are
		// all accepted by the inner queue, which is as good as on disk for
		// writers still waiting in syncTo.
		if q.active != nil {
			q.active.Close()
			q.active = nil
		}
		q.markSynced(q.nextSeq - 1)
	}
	if err := os.Remove(seg.path); err != nil && !os.IsNotExist(err) {
		q.log.Error("removing a replayed segment failed", "segment", seg.path, "error", err)
	}
	syncDir(q.opts.Dir)
	q.bytes -= seg.size
	q.segs = q.segs[1:]
	if len(q.segs) == 0 {
		q.log.Info("spool replayed; hits go straight to the queue again")
		q.breaker = time.Time{}
	}
	return nil
}

// Spooled reports the hits and bytes waiting in the spool.
func (q *Queue) Spooled() (hits, bytes int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.hits, q.bytes
}

// Receive delegates to the inner queue.
func (q *Queue) Receive(ctx context.Context, max int) (*analytics.Delivery, error) {
	return q.inner.Receive(ctx, max)
}

// Stats returns the inner queue's stats with the spooled hits added to
// Depth and the spool's bytes to Bytes. When the inner queue fails, the
// spool's part is returned with the error.
func (q *Queue) Stats(ctx context.Context) (analytics.QueueStats, error) {
	st, err := q.inner.Stats(ctx)
	hits, bytes := q.Spooled()
	st.Depth += hits
	st.Bytes += bytes
	return st, err
}

// DeadLetter delegates to the inner queue when it can dead-letter.
func (q *Queue) DeadLetter(ctx context.Context, d *analytics.Delivery, hits []analytics.Hit, cause error) error {
	dl, ok := q.inner.(analytics.DeadLetterer)
	if !ok {
		return fmt.Errorf("spool: inner queue %T cannot dead-letter: %w", q.inner, analytics.ErrInvalid)
	}
	return dl.DeadLetter(ctx, d, hits, cause)
}

// Close stops Run and Enqueue, closes the files (spooled hits stay on
// disk for the next start) and closes the inner queue. Idempotent.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.stop)
	q.mu.Unlock()
	q.running.Wait()
	q.mu.Lock()
	var err error
	if q.active != nil {
		err = q.active.Sync()
		q.active.Close()
		q.active = nil
		if err == nil {
			q.markSynced(q.nextSeq - 1)
		}
	}
	q.mu.Unlock()
	q.lock.Close()
	if e := q.inner.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("spool: close: %w", err)
	}
	return nil
}
