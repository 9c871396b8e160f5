// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reference device on Fip-see's ring layout (slots.h; bench --ring
 * slots): host threads as in the thread backend, P (`vs-producer`) posting
 * each item in a 64-byte request slot, C (`vs-consumer`) answering each
 * with a response slot on a second ring. Nothing is shared but the slots'
 * flags and, for notifications, each waiter's own word (how many messages
 * it waits for). Fip-see's threads always poll; here each side may also
 * wait by notification (kp, kc are the counts they wait for), by sleeping,
 * or by polling for a while first, as on the split ring.
 *
 * The data path keeps the thread backend's rules: no syscall and no clock
 * read but the TSC per item; statistics in each thread's own memory. No
 * control file and no event trace on this layout.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pcdev/backend.h"
#include "pcdev/slots.h"
#include "pcdev/stats.h"
#include "pcdev/tsc.h"

struct sdev {
	const struct pcdev_config *cfg;
	struct pcdev_run *run;
	struct vs_slot_ring req, resp;
	void *mem;
	size_t mem_len;
	int kick_fd, intr_fd;
	struct pcdev_pair threads;
	struct pcdev_gate gate;
	uint64_t wp_t, wc_t, busy_t;
	struct timespec yp_ts, yc_ts;
	/* Each waiter's word, written by that side only. */
	struct vs_slot_wait c_wait;	/* C waits for requests */
	struct vs_slot_wait p_wait;	/* P waits for responses */
	alignas(64) volatile uint64_t kick_tsc;	/* P: TSC before a kick */
	alignas(64) volatile uint64_t intr_tsc;	/* C: TSC before an interrupt */
	struct pcdev_side p, c;
	struct pcdev_hist *hist;
	uint64_t seq_errors;
	bool gated;
};

static void store_relaxed(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static bool waits_for_notes(enum pcdev_mode m)
{
	return m == PCDEV_NOTIFY || m == PCDEV_BUSYLOOP;
}

/*
 * One side found nothing on ring r at position pos: wait as `mode` says
 * until a message is there (returns it) or the run ends (NULL). The waiter
 * asks to be woken when the other side has sent `want` messages in all.
 */
static struct vs_slot *side_wait(struct sdev *d, struct pcdev_side *s,
				 enum pcdev_mode mode, const struct vs_slot_ring *r,
				 const struct vs_slot_pos *pos, struct vs_slot_wait *w,
				 uint32_t want, int fd, const volatile uint64_t *peer_tsc,
				 const struct timespec *y)
{
	struct pcdev_run *run = d->run;
	struct vs_slot *m = NULL;
	uint64_t t_en, t_w, deadline, note;

	switch (mode) {
	case PCDEV_POLL:
		while (!(m = vs_slots_peek(r, pos)) && !pcdev_run_over(run, vs_rdtsc()))
			vs_cpu_relax();
		break;
	case PCDEV_SLEEP:
		while (!pcdev_run_over(run, vs_rdtsc())) {
			pcdev_side_sleep(s, y);
			if ((m = vs_slots_peek(r, pos)))
				break;
		}
		break;
	case PCDEV_BUSYLOOP:
		deadline = vs_rdtsc() + d->busy_t;
		do {
			if ((m = vs_slots_peek(r, pos)))
				goto out;
			vs_cpu_relax();
			t_w = vs_rdtsc();
		} while (!pcdev_run_over(run, t_w) && t_w < deadline);
		/* fall through: block */
	case PCDEV_NOTIFY:
		while (!pcdev_run_over(run, vs_rdtsc())) {
			if (vs_slots_wait_prepare(w, want, r, pos)) {
				vs_slots_wait_done(w);	/* the double check found one */
				m = vs_slots_peek(r, pos);
				break;
			}
			t_en = vs_rdtsc();
			pcdev_efd_wait(fd);
			t_w = vs_rdtsc();
			s->blocks++;
			vs_slots_wait_done(w);
			if (run->done)
				break;
			m = vs_slots_peek(r, pos);
			if (!m) {
				s->spurious++;
				continue;
			}
			note = *peer_tsc;
			if (note >= t_en && note <= t_w)
				pcdev_avg_add(&s->s, t_w - note);
			break;
		}
		break;
	}
out:
	if (m)
		s->wakeups++;
	return run->done ? NULL : m;
}

/* Notify the waiting peer (Np for P, Nc for C); the TSC after. */
static uint64_t notify(struct pcdev_side *s, int fd, volatile uint64_t *tsc)
{
	uint64_t t = vs_rdtsc(), t1;

	*tsc = t;
	pcdev_efd_signal(fd);
	t1 = vs_rdtsc();
	pcdev_avg_add(&s->n, t1 - t);
	store_relaxed(&s->notifies, s->notifies + 1);
	return t1;
}

static bool side_start(struct sdev *d, struct pcdev_side *s, const char *name, int cpu)
{
	struct sched_param sp = { .sched_priority = d->cfg->rt_priority };

	s->tid = gettid();
	s->err = pcdev_thread_setup(name, d->cfg->timerslack_ns);
	if (!s->err)
		s->err = pcdev_thread_pin(pthread_self(), cpu);
	pcdev_gate_wait(&d->gate);
	if (s->err || d->run->done)
		return false;
	/* Real-time only past the start, as the thread backend does. */
	if (d->cfg->rt_priority > 0 &&
	    (s->err = -pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp))) {
		pcdev_run_finish(d->run, vs_rdtsc());
		return false;
	}
	return true;
}

static void *producer(void *arg)
{
	struct sdev *d = arg;
	const struct pcdev_config *cfg = d->cfg;
	struct pcdev_side *s = &d->p;
	struct pcdev_run *run = d->run;
	struct vs_slot_pos out = { 0 }, in = { 0 };
	const unsigned int len = d->req.num;
	const bool kick_on = waits_for_notes(cfg->c_mode);
	uint64_t seq = 0, got = 0, prev = 0, t, cpu0, w_sum = 0, w_n = 0;
	uint32_t kicked = 0;
	bool prev_ok = false;

	if (!side_start(d, s, "vs-producer", cfg->pin_p))
		return NULL;
	cpu0 = pcdev_thread_cpu_ns();
	while (!run->done && (!cfg->items || seq < cfg->items)) {
		struct vs_slot *m;

		/* Responses back: each frees one request in flight. */
		while ((m = vs_slots_peek(&d->resp, &in))) {
			vs_slots_release(m, &in);
			got++;
		}
		if (seq - got >= len) {
			m = side_wait(d, s, cfg->p_mode, &d->resp, &in, &d->p_wait,
				      (uint32_t)(got + cfg->kc), d->intr_fd, &d->intr_tsc,
				      &d->yp_ts);
			prev = vs_rdtsc();
			prev_ok = true;
			continue;	/* take them above, or see the run ended */
		}
		t = d->wp_t ? vs_tsc_spin_until(vs_rdtsc() + d->wp_t) : vs_rdtsc();
		/* Free: its last request was answered before `got` counted it. */
		m = vs_slots_claim(&d->req, &out);
		if (!m) {
			s->err = -EIO;
			pcdev_run_finish(run, t);
			break;
		}
		m->seq = seq;
		m->tsc = t;
		vs_slots_post(m, &out);
		seq++;
		if (prev_ok) {
			w_sum += t - prev;
			w_n++;
		}
		prev = t;
		prev_ok = true;
		if (kick_on && vs_slots_kick_needed(&d->c_wait, kicked, (uint32_t)seq))
			prev = notify(s, d->kick_fd, &d->kick_tsc);
		kicked = (uint32_t)seq;
		store_relaxed(&s->items, seq);
		if (pcdev_run_over(run, prev))
			break;
	}
	if (kick_on)
		pcdev_efd_signal(d->kick_fd);	/* a C waiting for kp > 1 */
	s->w.sum += w_sum;
	s->w.n += w_n;
	s->cpu_ns = pcdev_thread_cpu_ns() - cpu0;
	return NULL;
}

static void *consumer(void *arg)
{
	struct sdev *d = arg;
	const struct pcdev_config *cfg = d->cfg;
	struct pcdev_side *s = &d->c;
	struct pcdev_run *run = d->run;
	struct vs_slot_pos in = { 0 }, out = { 0 };
	const bool intr_on = waits_for_notes(cfg->p_mode);
	uint64_t seen = 0, prev = 0, t, cpu0, w_sum = 0, w_n = 0, seq_err = 0;
	uint32_t answered = 0, noted = 0;
	bool prev_ok = false;

	if (!side_start(d, s, "vs-consumer", cfg->pin_c))
		return NULL;
	cpu0 = pcdev_thread_cpu_ns();
	while (!run->done) {
		struct vs_slot *m = vs_slots_peek(&d->req, &in), *a;
		uint64_t seq, stamp;

		if (!m) {
			m = side_wait(d, s, cfg->c_mode, &d->req, &in, &d->c_wait,
				      (uint32_t)(seen + cfg->kp), d->kick_fd, &d->kick_tsc,
				      &d->yc_ts);
			prev = vs_rdtsc();
			prev_ok = true;
			if (!m)
				continue;
		}
		seq = m->seq;
		stamp = m->tsc;
		vs_slots_release(m, &in);
		t = d->wc_t ? vs_tsc_spin_until(vs_rdtsc() + d->wc_t) : vs_rdtsc();
		seq_err += seq != seen;
		pcdev_hist_add(d->hist, t > stamp ? t - stamp : 0);
		seen++;
		/* Free: at most len requests are in flight, and P took the
		 * response len back before sending this request. */
		while (!(a = vs_slots_claim(&d->resp, &out)) && !run->done)
			vs_cpu_relax();
		if (!a)
			break;
		a->seq = seq;
		vs_slots_post(a, &out);
		answered++;
		if (prev_ok) {
			w_sum += t - prev;
			w_n++;
		}
		prev = t;
		prev_ok = true;
		if (intr_on && vs_slots_kick_needed(&d->p_wait, noted, answered))
			prev = notify(s, d->intr_fd, &d->intr_tsc);
		noted = answered;
		store_relaxed(&s->items, seen);
		if (cfg->items && seen >= cfg->items) {
			pcdev_run_finish(run, t);
			break;
		}
		if (pcdev_run_over(run, t))
			break;
	}
	d->seq_errors = seq_err;
	s->w.sum += w_sum;
	s->w.n += w_n;
	s->cpu_ns = pcdev_thread_cpu_ns() - cpu0;
	return NULL;
}

static int slots_open(const struct pcdev_config *cfg, struct pcdev_run *run, void **priv)
{
	struct sdev *d = aligned_alloc(64, (sizeof(*d) + 63) & ~(size_t)63);
	unsigned int len = cfg->len;

	if (!d)
		return -ENOMEM;
	memset(d, 0, sizeof(*d));
	*priv = d;
	d->cfg = cfg;
	d->run = run;
	d->kick_fd = d->intr_fd = -1;
	if (!vs_slots_num_ok(len))
		return -EINVAL;
	pcdev_gate_init(&d->gate);
	d->gated = true;
	d->hist = calloc(1, sizeof(*d->hist));
	if (!d->hist)
		return -ENOMEM;
	d->mem_len = (2 * (size_t)len * sizeof(struct vs_slot) + 4095) & ~(size_t)4095;
	d->mem = mmap(NULL, d->mem_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		return -errno;
	}
	vs_slots_init(&d->req, d->mem, len);
	vs_slots_init(&d->resp, (struct vs_slot *)d->mem + len, len);
	d->kick_fd = eventfd(0, EFD_CLOEXEC);
	d->intr_fd = eventfd(0, EFD_CLOEXEC);
	if (d->kick_fd < 0 || d->intr_fd < 0)
		return -errno;
	pcdev_run_wake_on_end(run, d->kick_fd);
	pcdev_run_wake_on_end(run, d->intr_fd);
	run->side_stop = cfg->stop;
	d->wp_t = vs_ns_to_tsc(cfg->wp_ns);
	d->wc_t = vs_ns_to_tsc(cfg->wc_ns);
	d->busy_t = vs_ns_to_tsc(cfg->busyloop_ns);
	d->yp_ts = pcdev_ns_to_ts(cfg->yp_ns);
	d->yc_ts = pcdev_ns_to_ts(cfg->yc_ns);
	return 0;
}

static int slots_start(void *priv)
{
	struct sdev *d = priv;
	int err;

	err = pcdev_pair_start(&d->threads, d->run, &d->gate, d->cfg->duration_ns, producer,
			       consumer, d);
	if (err)
		return err;
	err = d->p.err ? d->p.err : d->c.err;
	if (err)
		pcdev_run_finish(d->run, d->run->tsc_start);
	return err;
}

static void slots_counters(void *priv, struct pcdev_counters *c)
{
	struct sdev *d = priv;

	pcdev_pair_counters(&d->p, &d->c, d->hist, c);
}

static void slots_stop(void *priv)
{
	struct sdev *d = priv;

	pcdev_pair_stop(&d->threads, d->run);
}

static int slots_results(void *priv, struct pcdev_results *res)
{
	struct sdev *d = priv;
	int err = d->p.err ? d->p.err : d->c.err;

	if (err)
		return err;
	pcdev_side_results(&d->c, true, res);
	pcdev_side_results(&d->p, false, res);
	pcdev_pair_costs(&d->p, &d->c, res);
	res->latency_sample = 1;
	res->elapsed_ns = vs_tsc_to_ns(d->run->tsc_end - d->run->tsc_start);
	pcdev_hist_latency(d->hist, vs_tsc_per_ns(), &res->latency);
	pcdev_note(res, "ring: Fip-see slots (64-byte lines, a flag each, no shared index)");
	if (d->seq_errors)
		pcdev_note(res, "%llu items out of order", (unsigned long long)d->seq_errors);
	return 0;
}

static int slots_write_trace(void *priv, FILE *f)
{
	return -EOPNOTSUPP;	/* refused by pcdev_config_validate() */
}

static void slots_close(void *priv)
{
	struct sdev *d = priv;

	if (d->kick_fd >= 0)
		close(d->kick_fd);
	if (d->intr_fd >= 0)
		close(d->intr_fd);
	if (d->mem)
		munmap(d->mem, d->mem_len);
	if (d->gated)
		pcdev_gate_destroy(&d->gate);
	free(d->hist);
	free(d);
}

const struct pcdev_backend_ops pcdev_slots_ops = {
	.name = "thread (slots)",
	.open = slots_open,
	.start = slots_start,
	.counters = slots_counters,
	.stop = slots_stop,
	.results = slots_results,
	.write_trace = slots_write_trace,
	.close = slots_close,
};
