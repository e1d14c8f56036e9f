package standard

import (
	"errors"
	"testing"
	"time"

	"github.com/footfall/analytics"
	"github.com/footfall/analytics/config"
	"github.com/footfall/analytics/queue/memqueue"
)

// TestQueueDeadLetter: the Processor finds analytics.DeadLetterer by a
// type assertion on the queue it is given; the wrapper OpenQueue returns
// must forward it, or poison hits are dropped instead of dead-lettered.
func TestQueueDeadLetter(t *testing.T) {
	ctx := t.Context()
	cfg, err := config.Load("", []string{"FOOTFALL_DATA_DIR=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	q, err := OpenQueue(ctx, cfg, InProcess, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var aq analytics.Queue = q
	dl, ok := aq.(analytics.DeadLetterer)
	if !ok {
		t.Fatalf("%T does not implement analytics.DeadLetterer", aq)
	}
	hit := analytics.Hit{ID: analytics.NewHitID(time.Now()), SiteID: 1, Time: time.Now(), Kind: analytics.KindPageview, URL: "https://a.example/"}
	if err := q.Enqueue(ctx, []analytics.Hit{hit}); err != nil {
		t.Fatal(err)
	}
	d, err := q.Receive(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := dl.DeadLetter(ctx, d, d.Hits, errors.New("poison")); err != nil {
		t.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	dead := q.Queue.(*memqueue.Queue).DeadLetters()
	if len(dead) != 1 || dead[0].Hit.ID != hit.ID {
		t.Fatalf("dead letters through the wrapper: %+v", dead)
	}
}
