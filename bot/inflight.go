package bot

import (
	"context"
	"sync"
	"time"
)

// Inflight tracks work an adapter starts after acknowledging a platform
// event. Shutdown waits for it and does not cancel it: what klaxon
// acknowledged gets finished, within a time limit.
type Inflight struct {
	wg sync.WaitGroup
}

// Go runs fn in the background on a context that outlives ctx's
// cancellation but not limit.
func (w *Inflight) Go(ctx context.Context, limit time.Duration, fn func(ctx context.Context)) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
		defer cancel()
		fn(ctx)
	}()
}

// Wait waits for all work started with Go.
func (w *Inflight) Wait() { w.wg.Wait() }
