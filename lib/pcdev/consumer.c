// SPDX-License-Identifier: GPL-2.0-only
/*
 * The consumer side of the reference device, for both backends (see
 * consumer.h). Data path rules (bench/ring-ceiling holds us to them): no
 * syscall and no clock read other than the TSC per item; statistics live in
 * locals and in C's own memory, published once per batch.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pcdev/consumer.h"
#include "pcdev/tsc.h"

int pcdev_consumer_init(struct pcdev_consumer *c, const struct pcdev_config *cfg,
			struct pcdev_run *run)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->run = run;
	c->kick_fd = c->intr_fd = -1;
	c->kp = cfg->kp;
	c->sample = 1;
	c->cap = cfg->items;
	c->wc_t = vs_ns_to_tsc(cfg->wc_ns);
	c->mode = cfg->c_mode;
	c->busy_t = vs_ns_to_tsc(cfg->busyloop_ns);
	c->yc = pcdev_ns_to_ts(cfg->yc_ns);
	c->intr_on = cfg->p_mode == PCDEV_NOTIFY || cfg->p_mode == PCDEV_BUSYLOOP;
	c->hist = calloc(1, sizeof(*c->hist));
	if (!c->hist)
		return -ENOMEM;
	if (cfg->trace_path) {
		err = pcdev_trace_alloc(&c->s.trace, PCDEV_TRACE_ORDER);
		if (err)
			return err;
	}
	return 0;
}

void pcdev_consumer_destroy(struct pcdev_consumer *c)
{
	pcdev_ctl_close(&c->ctl);
	pcdev_trace_free(&c->s.trace);
	free(c->hist);
	c->hist = NULL;
}

void pcdev_consumer_ctl_open(struct pcdev_consumer *c,
			     const struct pcdev_config *cfg, uint64_t halt_poll_ns)
{
	struct vs_pcdev_ctl init = { 0 };

	pcdev_ctl_from_mode(cfg->c_mode, cfg->yc_ns, cfg->busyloop_ns, &init);
	init.halt_poll_ns = halt_poll_ns;
	/* No control file, no live tuning: the run itself goes on. */
	pcdev_ctl_open(&c->ctl, &init);
}

static bool waits_for_kicks(enum pcdev_mode m)
{
	return m == PCDEV_NOTIFY || m == PCDEV_BUSYLOOP;
}

/*
 * The control file changed: take C's new mode, sleep and busy-loop budget.
 * Called by C between items, so nothing else reads them meanwhile.
 */
static void consumer_apply_ctl(struct pcdev_consumer *c, struct vs_vring *vr,
			       struct vs_vring_cons *cs)
{
	const struct vs_pcdev_ctl *f = &c->ctl.cur;
	enum pcdev_mode m = pcdev_ctl_consumer_mode(f);

	if (!c->ops || !c->ops->ctl_apply || c->ops->ctl_apply(c, f, m))
		c->mode = m;
	if (f->consumer_sleep_ns)
		c->yc = pcdev_ns_to_ts((double)f->consumer_sleep_ns);
	if (f->consumer_busyloop_ns && f->consumer_busyloop_ns < PCDEV_CTL_POLL_NS)
		c->busy_t = vs_ns_to_tsc((double)f->consumer_busyloop_ns);
	if (!waits_for_kicks(c->mode))
		vs_vring_cons_disable_kick(vr, cs);
}

/*
 * C found the ring empty: wait as its mode says. Returns the number of
 * pending items (0 when the run is over) and updates *now.
 */
static unsigned int consumer_wait(struct pcdev_consumer *c, struct vs_vring *vr,
				  struct vs_vring_cons *cs, uint64_t *now)
{
	struct pcdev_side *s = &c->s;
	struct pcdev_run *run = c->run;
	unsigned int pending = 0;
	uint64_t t_en, t_w, deadline, kick;

	pcdev_trace_add(&s->trace, PCDEV_EV_C_WAIT, vs_rdtsc(), cs->last_avail);
	if (c->ctl.on && pcdev_ctl_poll(&c->ctl, vs_rdtsc()))
		consumer_apply_ctl(c, vr, cs);
	switch (c->mode) {
	case PCDEV_POLL:
		while (!(pending = vs_vring_cons_pending(vr, cs)) &&
		       !pcdev_run_over(run, vs_rdtsc()))
			vs_cpu_relax();
		break;
	case PCDEV_SLEEP:
		while (!pcdev_run_over(run, vs_rdtsc())) {
			pcdev_side_sleep(s, &c->yc);
			if ((pending = vs_vring_cons_pending(vr, cs)))
				break;
		}
		break;
	case PCDEV_BUSYLOOP:
		deadline = vs_rdtsc() + c->busy_t;
		do {
			if ((pending = vs_vring_cons_pending(vr, cs)))
				goto out;
			vs_cpu_relax();
			t_w = vs_rdtsc();
		} while (!pcdev_run_over(run, t_w) && t_w < deadline);
		/* fall through: block */
	case PCDEV_NOTIFY:
		while (!pcdev_run_over(run, vs_rdtsc())) {
			pending = vs_vring_cons_enable_kick(vr, cs, c->kp);
			if (pending) {	/* the double check found items */
				vs_vring_cons_disable_kick(vr, cs);
				break;
			}
			t_en = vs_rdtsc();
			pcdev_efd_wait(c->kick_fd);
			t_w = vs_rdtsc();
			s->blocks++;
			vs_vring_cons_disable_kick(vr, cs);
			if (run->done)
				break;
			pending = vs_vring_cons_pending(vr, cs);
			if (!pending) {
				s->spurious++;	/* a stale kick: queue empty */
				continue;
			}
			kick = *c->kick_tsc - (uint64_t)c->p_tsc_offset;
			if (kick >= t_en && kick <= t_w)
				pcdev_avg_add(&s->s, t_w - kick);
			break;
		}
		break;
	}
out:
	if (pending)
		s->wakeups++;
	*now = vs_rdtsc();
	return run->done ? 0 : pending;
}

static void store_relaxed(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* C notifies P (Nc); returns the TSC after, where C's next Wc starts. */
static uint64_t consumer_interrupt(struct pcdev_consumer *c, uint64_t seq)
{
	struct pcdev_side *s = &c->s;
	uint64_t t, t1;

	t = vs_rdtsc();
	*c->intr_tsc = t + (uint64_t)c->p_tsc_offset;
	pcdev_efd_signal(c->intr_fd);
	t1 = vs_rdtsc();
	pcdev_avg_add(&s->n, t1 - t);
	store_relaxed(&s->notifies, s->notifies + 1);
	pcdev_trace_add(&s->trace, PCDEV_EV_INTR, t1, seq);
	return t1;
}

/*
 * C pops up to this many ids at once and prefetches their buffers, as
 * vhost fetches descriptors in batches. With no emulated work (Wc = 0) it
 * also returns them with one used->idx store per batch (vhost_add_used_n);
 * with Wc > 0 each buffer goes back when its Wc ends, as the model has it.
 */
#define POP_BATCH	32
/* Wp = Wc = 0: used->idx once per this many items, as vhost-net returns
 * up to VHOST_NET_BATCH (64) buffers at once. */
#define USED_BATCH	64

/*
 * Where C is in one queue's items: the next sequence number, the TSC and
 * item of the last W sample, and the sums that stay in registers on the
 * data path (a local struct the compiler keeps there).
 */
struct cursor {
	uint64_t seq, prev, prev_seq;
	uint64_t w_sum, w_n, lat_n, lat_max, seq_err;
	bool prev_ok;
};

/* C finished the stamped item k->seq at TSC t; P stamped it at `stamp`
 * (host TSC): its latency, and W since the last stamped item. */
static inline __attribute__((always_inline)) void
cursor_item_done(struct cursor *k, struct pcdev_hist *hist, uint64_t stamp,
		 uint64_t t)
{
	uint64_t lat = t > stamp ? t - stamp : 0;

	hist->bucket[pcdev_hist_index(lat)]++;
	k->lat_n++;
	k->lat_max = lat > k->lat_max ? lat : k->lat_max;
	if (k->prev_ok) {
		k->w_sum += t - k->prev;
		k->w_n += k->seq - k->prev_seq;
	}
	k->prev = t;
	k->prev_seq = k->seq;
	k->prev_ok = true;
}

void pcdev_consumer_run(struct pcdev_consumer *c)
{
	struct pcdev_side *s = &c->s;
	struct pcdev_run *run = c->run;
	/* A private copy of the ring pointers stays in registers. */
	struct vs_vring ring = c->vr, *vr = &ring;
	struct vs_vring_cons cs = { 0 };
	struct pcdev_hist *hist = c->hist;
	struct cursor k = { 0 };
	uint64_t t, cpu0;
	unsigned int pending, i, n, filled;
	const unsigned int smask = c->sample - 1;
	bool sampled;
	uint16_t id;
	uint16_t ids[POP_BATCH];
	bool stopping;
	/* Loop invariants in locals: every ring store could alias c. */
	const struct vs_item *items = c->items;
	const uint64_t wc_t = c->wc_t, off = (uint64_t)c->p_tsc_offset;
	const uint64_t deadline = run->side_deadline, cap = c->cap;
	const bool intr_on = c->intr_on, tracing = s->trace.rec != NULL;
	const bool drain = c->drain;

	cpu0 = pcdev_thread_cpu_ns();
	for (;;) {
		if (!drain && run->done)
			break;
		pending = vs_vring_cons_pending(vr, &cs);
		if (!pending) {
			/* Draining: P stopped before done was set, so an
			 * empty ring now means everything was consumed. */
			if (run->done)
				break;
			pending = consumer_wait(c, vr, &cs, &t);
			k.prev = t;
			k.prev_ok = true;
			k.prev_seq = k.seq - 1;	/* W from here */
			if (!pending)
				continue;
		}
		if (cap && pending > cap - k.seq)
			pending = (unsigned int)(cap - k.seq);
		filled = 0;
		stopping = false;
		/* Sampling (Wp = Wc = 0): whole groups at a time, a stamp
		 * every PCDEV_LATENCY_SAMPLE items, used->idx once per
		 * USED_BATCH or when the ring ran empty. */
		while (smask && pending) {
			n = PCDEV_PUBLISH_GROUP -
			    (unsigned int)(k.seq & (PCDEV_PUBLISH_GROUP - 1));
			if (n > pending)
				n = pending;
			sampled = !(k.seq & smask);
			/* A whole group: a constant count the compiler
			 * unrolls and vectorizes. */
			if (n == PCDEV_PUBLISH_GROUP)
				id = vs_vring_cons_pop_fill_n(vr, &cs, PCDEV_PUBLISH_GROUP,
							      sizeof(struct vs_item),
							      filled);
			else
				id = vs_vring_cons_pop_fill_n(vr, &cs, n,
							      sizeof(struct vs_item),
							      filled);
			/* The next sample's stamp, usually written by then. */
			if (sampled)
				__builtin_prefetch(&items[(id + smask + 1) &
							  (vr->num - 1)]);
			filled += n;
			if (sampled) {
				t = vs_rdtsc();
				cursor_item_done(&k, hist, items[id].tsc_produced - off, t);
				stopping = t >= deadline || (!drain && run->done);
			}
			k.seq += n;
			pending -= n;
			if (filled >= USED_BATCH || !pending || stopping) {
				vs_vring_cons_flush(vr, &cs, filled);
				filled = 0;
				if (intr_on && vs_vring_cons_intr_needed(vr, &cs)) {
					k.prev = consumer_interrupt(c, k.seq);
					k.prev_seq = k.seq - 1;
				}
			}
			if (stopping)
				goto stop;
		}
		while (pending) {
			n = pending < POP_BATCH ? pending : POP_BATCH;
			for (i = 0; i < n; i++) {
				ids[i] = vs_vring_cons_pop(vr, &cs);
				if (!((k.seq + i) & smask))
					__builtin_prefetch(&items[ids[i]]);
				if (tracing)
					pcdev_trace_add(&s->trace, PCDEV_EV_SEE,
							vs_rdtsc(), k.seq + i);
			}
			pending -= n;
			filled = 0;
			stopping = false;
			for (i = 0; i < n; i++) {
				if (!(k.seq & smask)) {
					const struct vs_item *it = &items[ids[i]];

					k.seq_err += it->seq != k.seq;
					t = wc_t ? vs_tsc_spin_until(vs_rdtsc() + wc_t) :
						   vs_rdtsc();
					cursor_item_done(&k, hist, it->tsc_produced - off, t);
					stopping = t >= deadline || (!drain && run->done);
				}
				k.seq++;
				if (!wc_t) {
					vs_vring_cons_fill(vr, &cs, ids[i],
							   sizeof(struct vs_item), filled++);
				} else {
					vs_vring_cons_push(vr, &cs, ids[i],
							   sizeof(struct vs_item));
					if (intr_on && vs_vring_cons_intr_needed(vr, &cs)) {
						k.prev = consumer_interrupt(c, k.seq);
						k.prev_seq = k.seq - 1;
					}
				}
				if (stopping)
					break;
			}
			if (filled) {
				vs_vring_cons_flush(vr, &cs, filled);
				if (intr_on && vs_vring_cons_intr_needed(vr, &cs)) {
					k.prev = consumer_interrupt(c, k.seq);
					k.prev_seq = k.seq - 1;
				}
			}
			if (stopping)
				goto stop;
		}
		store_relaxed(&s->items, k.seq);
		if (cap && k.seq >= cap) {
			pcdev_run_finish(run, k.prev);
			break;
		}
		if (!drain && pcdev_run_over(run, k.prev))
			break;
		if (waits_for_kicks(c->mode))
			vs_vring_cons_disable_kick(vr, &cs);
	}
	goto out;
stop:
	store_relaxed(&s->items, k.seq);
	pcdev_run_over(run, k.prev);
out:
	hist->count += k.lat_n;
	hist->max = k.lat_max > hist->max ? k.lat_max : hist->max;
	s->w.sum += k.w_sum;
	s->w.n += k.w_n;
	c->seq_errors += k.seq_err;
	s->cpu_ns = pcdev_thread_cpu_ns() - cpu0;
}

void pcdev_consumer_results(const struct pcdev_consumer *c,
			    struct pcdev_results *res)
{
	pcdev_side_results(&c->s, true, res);
	res->latency_sample = c->sample;
	pcdev_hist_latency(c->hist, vs_tsc_per_ns(), &res->latency);
	if (c->seq_errors)
		pcdev_note(res, "%llu items out of order",
			   (unsigned long long)c->seq_errors);
	if (c->ctl.changes)
		pcdev_note(res, "control file changed %u time(s): consumer ended in %s mode",
			   c->ctl.changes, pcdev_mode_name(c->mode));
}
