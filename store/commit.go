package store

// GroupCommit is a store's committer: it takes the first write waiting on
// writes and every other one waiting then (up to max), hands them to
// commit together, and again, until closing is closed. A lone writer waits
// for nothing but its own commit; concurrent writers share one.
func GroupCommit[W any](writes <-chan W, closing <-chan struct{}, max int, commit func([]W)) {
	for {
		var first W
		select {
		case first = <-writes:
		case <-closing:
			return
		}
		group := []W{first}
	drain:
		for len(group) < max {
			select {
			case w := <-writes:
				group = append(group, w)
			default:
				break drain
			}
		}
		commit(group)
	}
}
