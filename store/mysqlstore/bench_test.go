package mysqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/footfall/analytics"
)

const benchBatch = 500 // actions (hits) per batch

// BenchmarkWriteBatch measures the write path in hits/s: WriteBatch of
// realistic 500-action batches (see traffic), beside a baseline on the
// same server, connection settings and run: one multi-row INSERT of 500
// rows into a copy of log_link_visit_action (same columns and indexes) and
// a COMMIT — the physical limit of storing 500 action rows.
func BenchmarkWriteBatch(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, Options{})
	site := analytics.Site{Name: "bench"}
	if err := s.CreateSite(ctx, &site); err != nil {
		b.Fatal(err)
	}

	// b.Run calls a sub-benchmark several times: state lives out here.
	g := newTraffic(b, s, site.ID, "bench:0", 1)
	for i := 0; i < 20; i++ { // warm the dictionary and the tables
		g.write(g.batch(benchBatch))
	}
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE bench_plain LIKE log_link_visit_action"); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	next := int64(1)

	b.Run("store", func(b *testing.B) {
		g.t = b
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; {
			b.StopTimer()
			var batches []*analytics.LogBatch
			for j := 0; j < 20 && i+j < b.N; j++ {
				batches = append(batches, g.batch(benchBatch))
			}
			b.StartTimer()
			for _, bt := range batches {
				g.write(bt)
			}
			i += len(batches)
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "hits/s")
	})

	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(actionColumns)), ",") + ")"
	q := "INSERT INTO bench_plain (" + strings.Join(actionColumns, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+",", benchBatch), ",")
	t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	mkArgs := func() []any {
		args := make([]any, 0, benchBatch*len(actionColumns))
		for k := 0; k < benchBatch; k++ {
			var hit analytics.HitID
			for j := range hit {
				hit[j] = byte(rng.Uint32())
			}
			visitor := []byte{1, 2, 3, 4, 5, 6, 7, byte(k)}
			t0 = t0.Add(time.Duration(rng.IntN(900)) * time.Millisecond)
			args = append(args, next, int64(1), visitor, next/4+1, t0, hit[:], int64(1),
				int64(rng.IntN(3000)), int64(rng.IntN(3000)), int64(rng.IntN(3000)), int64(rng.IntN(3000)),
				fmt.Sprintf("%06x", rng.IntN(1<<24)), int64(k%9), int64(rng.IntN(60)), int64(16),
				nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil,
				int64(12), int64(80), int64(5), int64(300), int64(120), int64(9), nil)
			next++
		}
		return args
	}
	plain := func(b *testing.B, args []any) {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("baseline-plain-insert", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			args := mkArgs()
			b.StartTimer()
			plain(b, args)
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "hits/s")
	})

	// The two alternate, batch by batch, so that both see the same load
	// of a shared machine; the ratio is the figure to compare.
	b.Run("interleaved", func(b *testing.B) {
		g.t = b
		var store, base time.Duration
		for i := 0; i < b.N; i++ {
			bt := g.batch(benchBatch)
			args := mkArgs()
			start := time.Now()
			g.write(bt)
			store += time.Since(start)
			start = time.Now()
			plain(b, args)
			base += time.Since(start)
		}
		b.ReportMetric(float64(b.N*benchBatch)/store.Seconds(), "store-hits/s")
		b.ReportMetric(float64(b.N*benchBatch)/base.Seconds(), "baseline-hits/s")
		b.ReportMetric(100*base.Seconds()/store.Seconds(), "store-%-of-baseline")
	})
}

// BenchmarkLastVisit measures the visit lookup of sessionization over a
// table of 100 000 visits, one by one and 100 at a time (LastVisits),
// beside two baselines: a primary-key SELECT of
// one column (the round-trip floor) and of the whole row.
func BenchmarkLastVisit(b *testing.B) {
	ctx := context.Background()
	s := openTest(b, Options{})
	site := analytics.Site{Name: "bench"}
	if err := s.CreateSite(ctx, &site); err != nil {
		b.Fatal(err)
	}
	const visits, perBatch = 100_000, 1000
	rng := rand.New(rand.NewPCG(5, 6))
	var visitors []analytics.VisitorID
	g := newTraffic(b, s, site.ID, "lv", 9)
	var pos analytics.Position
	for n := 0; n < visits; n += perBatch {
		first := g.reserve(analytics.IDVisit, perBatch)
		bt := &analytics.LogBatch{Shard: "lv", From: pos, To: analytics.Position{Hi: 1, Lo: uint64(n + perBatch)}}
		pos = bt.To
		for i := 0; i < perBatch; i++ {
			v := g.visit(first + int64(i))
			v.LastActionTime = v.FirstActionTime.Add(time.Duration(rng.IntN(3600)) * time.Second)
			if len(visitors) > 0 && rng.IntN(4) == 0 { // returning visitors
				v.VisitorID = visitors[rng.IntN(len(visitors))]
			} else {
				visitors = append(visitors, v.VisitorID)
			}
			g.clock = g.clock.Add(time.Second)
			bt.Visits = append(bt.Visits, v)
		}
		g.write(bt)
	}
	if _, err := s.db.ExecContext(ctx, "ANALYZE TABLE log_visit"); err != nil {
		b.Fatal(err)
	}
	b.Run("LastVisit", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			m := analytics.VisitorMatch{SiteID: site.ID, VisitorID: visitors[rng.IntN(len(visitors))]}
			if _, err := s.LastVisit(ctx, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LastVisit-config", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c := visitors[rng.IntN(len(visitors))]
			c[0] ^= 0xff
			m := analytics.VisitorMatch{SiteID: site.ID, ConfigID: c}
			if _, err := s.LastVisit(ctx, m); err != nil && !strings.Contains(err.Error(), "not found") {
				b.Fatal(err)
			}
		}
	})
	// A delivery's uncached visitors in one LastVisits call: 100 matches,
	// a quarter of them without a visit; ns/op is per call (per match:
	// divide by 100).
	b.Run("LastVisits-100", func(b *testing.B) {
		b.ReportAllocs()
		ms := make([]analytics.VisitorMatch, 100)
		for i := 0; i < b.N; i++ {
			for j := range ms {
				ms[j] = analytics.VisitorMatch{SiteID: site.ID, VisitorID: visitors[rng.IntN(len(visitors))]}
				if j%4 == 0 {
					ms[j].VisitorID[0] ^= 0xff
				}
			}
			if _, err := s.LastVisits(ctx, ms); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The whole row by primary key, scanned like LastVisit does (no
	// dictionary joins): the cost of the row's width.
	b.Run("baseline-pk-select-row", func(b *testing.B) {
		b.ReportAllocs()
		q := "SELECT " + strings.Join(visitColumns, ", ") + " FROM log_visit v WHERE idvisit = ?"
		var v analytics.Visit
		for i := 0; i < b.N; i++ {
			// The four dictionary ids scan into the name fields as numbers.
			if err := scanVisit(s.db.QueryRowContext(ctx, q, int64(1+rng.IntN(visits))), &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-pk-select", func(b *testing.B) {
		b.ReportAllocs()
		var one int64
		for i := 0; i < b.N; i++ {
			if err := s.db.QueryRowContext(ctx, "SELECT idsite FROM log_visit WHERE idvisit = ?", int64(1+rng.IntN(visits))).Scan(&one); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkStorage stores 200 000 actions of realistic traffic per
// iteration (run it with -benchtime=1x) and reports the bytes per stored
// action from information_schema.TABLES after ANALYZE TABLE: the action
// table alone (data + indexes) and every log table and the dictionary
// together, per action.
func BenchmarkStorage(b *testing.B) {
	ctx := context.Background()
	const total = 200_000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dsn, drop := newTestDB(b) // one database at a time, whatever b.N
		b.Cleanup(drop)
		s := openTest(b, Options{DSN: dsn})
		site := analytics.Site{Name: "bench"}
		if err := s.CreateSite(ctx, &site); err != nil {
			b.Fatal(err)
		}
		g := newTraffic(b, s, site.ID, "storage", 11)
		b.StartTimer()
		for n := 0; n < total; n += benchBatch {
			g.write(g.batch(benchBatch))
		}
		b.StopTimer()
		tables := []string{"log_link_visit_action", "log_visit", "log_action", "log_conversion", "log_conversion_item"}
		for _, t := range tables {
			if _, err := s.db.ExecContext(ctx, "ANALYZE TABLE "+t); err != nil {
				b.Fatal(err)
			}
		}
		var actions, visits int64
		if err := s.db.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM log_link_visit_action), (SELECT COUNT(*) FROM log_visit)").Scan(&actions, &visits); err != nil {
			b.Fatal(err)
		}
		size := map[string][2]int64{}
		rows, err := s.db.QueryContext(ctx, `SELECT TABLE_NAME, DATA_LENGTH, INDEX_LENGTH FROM information_schema.TABLES
			WHERE TABLE_SCHEMA = DATABASE()`)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var name string
			var data, index int64
			if err := rows.Scan(&name, &data, &index); err != nil {
				b.Fatal(err)
			}
			size[name] = [2]int64{data, index}
		}
		rows.Close()
		var all int64
		for _, t := range tables {
			all += size[t][0] + size[t][1]
			b.Logf("%-22s data %9d  index %9d", t, size[t][0], size[t][1])
		}
		a := size["log_link_visit_action"]
		b.ReportMetric(float64(a[0]+a[1])/float64(actions), "action-B/action")
		b.ReportMetric(float64(a[0])/float64(actions), "action-data-B/action")
		b.ReportMetric(float64(all)/float64(actions), "all-B/action")
		b.ReportMetric(float64(actions)/float64(visits), "actions/visit")
		s.Close()
		drop()
		b.StartTimer()
	}
}
