package tracker

// LimitChangedPages makes Changed read at most n pages of 100, so a test
// reaches the bound with a few hundred issues.
func (g *GitHub) LimitChangedPages(n int) { g.changedPages = n }

// LimitChangedPages makes Changed read at most n pages of 100.
func (j *Jira) LimitChangedPages(n int) { j.changedPages = n }
