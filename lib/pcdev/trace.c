// SPDX-License-Identifier: GPL-2.0-only
/* Sec. 4.2.1 event trace: allocation and the offline merge. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "pcdev/trace.h"

static const char *const trace_names[PCDEV_EV_COUNT] = {
	[PCDEV_EV_PUBLISH] = "publish",
	[PCDEV_EV_SEE] = "see",
	[PCDEV_EV_KICK] = "kick",
	[PCDEV_EV_P_WAIT] = "p_wait",
	[PCDEV_EV_INTR] = "intr",
	[PCDEV_EV_C_WAIT] = "c_wait",
};

const char *pcdev_trace_name(enum pcdev_trace_type type)
{
	return type < PCDEV_EV_COUNT ? trace_names[type] : "?";
}

int pcdev_trace_alloc(struct pcdev_trace_buf *b, unsigned int order)
{
	size_t len = sizeof(*b->rec) << order;
	void *mem;

	/* Touch the pages now so the data path never page-faults. */
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	b->rec = mem;
	b->n = 0;
	b->mask = (1ull << order) - 1;
	return 0;
}

void pcdev_trace_free(struct pcdev_trace_buf *b)
{
	if (b->rec)
		munmap(b->rec, sizeof(*b->rec) * (b->mask + 1));
	b->rec = NULL;
}

/* Index of the oldest record still held, and how many there are. */
static void trace_window(const struct pcdev_trace_buf *b, uint64_t *first,
			 uint64_t *count)
{
	uint64_t cap = b->rec ? b->mask + 1 : 0;

	*count = b->n < cap ? b->n : cap;
	*first = b->n - *count;
}

static int trace_line(FILE *f, const struct pcdev_trace_rec *r, char side,
		      uint64_t tsc_start, double tsc_per_ns)
{
	double ns = ((double)r->tsc - (double)tsc_start) / tsc_per_ns;

	return fprintf(f, "%" PRIu64 " %.0f %c %s %" PRIu32 "\n", r->tsc, ns,
		       side, pcdev_trace_name(r->type), r->seq) < 0 ? -EIO : 0;
}

int pcdev_trace_write(FILE *f, const struct pcdev_trace_buf *p,
		      const struct pcdev_trace_buf *c, uint64_t tsc_start,
		      double tsc_per_ns)
{
	uint64_t pi, pn, ci, cn, pend, cend;
	const struct pcdev_trace_rec *pr, *cr;
	int err = 0;

	trace_window(p, &pi, &pn);
	trace_window(c, &ci, &cn);
	pend = pi + pn;
	cend = ci + cn;
	if (fprintf(f, "# virtsync pcdev trace v1\n"
		       "# tsc_per_ns %.9f tsc_start %" PRIu64 "\n"
		       "# dropped p %" PRIu64 " c %" PRIu64 "\n"
		       "# tsc ns_since_start side event seq\n",
		    tsc_per_ns, tsc_start, p->n - pn, c->n - cn) < 0)
		return -EIO;
	/* Each side's records are in TSC order already: a two-way merge. */
	while (!err && (pi < pend || ci < cend)) {
		pr = pi < pend ? &p->rec[pi & p->mask] : NULL;
		cr = ci < cend ? &c->rec[ci & c->mask] : NULL;
		if (pr && (!cr || pr->tsc <= cr->tsc)) {
			err = trace_line(f, pr, 'P', tsc_start, tsc_per_ns);
			pi++;
		} else {
			err = trace_line(f, cr, 'C', tsc_start, tsc_per_ns);
			ci++;
		}
	}
	return err;
}
