// SPDX-License-Identifier: GPL-2.0-only
/* The host's polling-core plan (hostpoll.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyze/hostpoll.h"

int vs_hostpoll_plan(const struct vs_hostpoll_queue *q, unsigned int n,
		     double dmax_ns, double notify_ns, double wake_ns,
		     struct vs_hostpoll *out)
{
	struct vs_mq_params p;
	struct vs_mq_pred pr;
	unsigned int i, k, s;
	int err;

	memset(out, 0, sizeof(*out));
	if (n > VS_MQ_MAX)
		return -EINVAL;
	out->n = n;
	out->dmax_ns = dmax_ns;
	memcpy(out->q, q, n * sizeof(*q));
	vs_mq_params_default(&p);
	if (!isnan(notify_ns) && notify_ns >= 0)
		p.kick_cpu_ns = notify_ns;
	if (!isnan(wake_ns) && wake_ns >= 0)
		p.wake_ns = wake_ns;
	for (i = 0; i < n; i++) {
		out->cpu_now += q[i].cons_cpu;
		out->cpu_now_kicks += q[i].kicks_per_s * p.kick_cpu_ns / 1e9;
	}
	out->cpu_now += out->cpu_now_kicks;
	for (i = 0, k = 0; i < n; i++) {
		if (!(q[i].items_per_s > 0) || isnan(q[i].wc_ns))
			continue;
		/* A queue rarely notified costs little now; polling it would
		 * only keep the pollers from their idle budget. */
		out->polled[i] = !(q[i].kicks_per_s < VS_HOSTPOLL_NOTIFY_RATE);
		if (!out->polled[i])
			continue;
		p.q[k++] = (struct vs_mq_queue){
			.rate = q[i].items_per_s,
			.burst = q[i].burst >= 1 ? q[i].burst : 1,
			.wc_ns = q[i].wc_ns > 0 ? q[i].wc_ns : 0,
		};
	}
	out->n_polled = k;
	if (n < 2) {
		snprintf(out->why, sizeof(out->why),
			 "one queue measured: shared polling cores are a question for several");
		return 0;
	}
	out->known = true;
	if (!k) {
		snprintf(out->why, sizeof(out->why),
			 "every queue is notified less than %.0f/s: all stay on notifications",
			 VS_HOSTPOLL_NOTIFY_RATE);
		return 0;
	}
	p.n_queues = k;
	/* The unpolled queues keep their threads and kicks. */
	double rest = 0;

	for (i = 0; i < n; i++)
		if (!out->polled[i])
			rest += q[i].cons_cpu + q[i].kicks_per_s * p.kick_cpu_ns / 1e9;
	for (s = 1; s <= k; s++) {
		p.n_pollers = s;
		err = vs_mq_predict(&p, &pr);
		if (err)
			return err;
		out->shape[s - 1] = (struct vs_hostpoll_shape){
			.pollers = s, .cpu = pr.cpu + rest, .p98_ns = pr.p98_ns,
			.saturated = pr.n_saturated,
		};
	}
	out->n_shapes = k;
	p.n_pollers = 0;
	err = vs_mq_pollers_needed(&p, dmax_ns, &s, &pr);
	if (err && err != -ERANGE)
		return err;
	out->pollers = s;
	if (s) {
		out->cpu = pr.cpu + rest;
		out->p98_ns = pr.p98_ns;
		p.n_pollers = s;
		out->headroom = vs_mq_headroom(&p, dmax_ns);
	} else {
		snprintf(out->why, sizeof(out->why),
			 "even %u pollers miss Dmax: a queue's own work is too long or the load too high",
			 k);
	}
	return 0;
}
