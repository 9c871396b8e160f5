// SPDX-License-Identifier: GPL-2.0-only
/* A reference-device run as JSON (bench.h). */
#include <math.h>

#include "core/json.h"
#include "output/bench.h"

static json_t *json_u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

json_t *vs_bench_json(const struct pcdev_config *cfg, const struct pcdev_results *r,
		      const struct vs_prediction *model, double dmax, bool stopped)
{
	const struct pcdev_latency *l = &r->latency;
	const struct pcdev_measured *m = &r->measured;
	json_t *doc = json_object(), *o;
	unsigned int i;

	if (!doc)
		return NULL;
	o = json_object();
	json_object_set_new(o, "backend", json_string(pcdev_backend_name(cfg->backend)));
	json_object_set_new(o, "ring", json_string(pcdev_ring_name(cfg->ring)));
	json_object_set_new(o, "p_mode", json_string(pcdev_mode_name(cfg->p_mode)));
	json_object_set_new(o, "c_mode", json_string(pcdev_mode_name(cfg->c_mode)));
	json_object_set_new(o, "len", json_integer(cfg->len));
	json_object_set_new(o, "kp", json_integer(cfg->kp));
	json_object_set_new(o, "kc", json_integer(cfg->kc));
	json_object_set_new(o, "wp_ns", vs_json_num(cfg->wp_ns));
	json_object_set_new(o, "wc_ns", vs_json_num(cfg->wc_ns));
	json_object_set_new(o, "yp_ns", vs_json_num(cfg->yp_ns));
	json_object_set_new(o, "yc_ns", vs_json_num(cfg->yc_ns));
	json_object_set_new(o, "busyloop_ns", vs_json_num(cfg->busyloop_ns));
	json_object_set_new(o, "timerslack_ns", vs_json_num(cfg->timerslack_ns));
	json_object_set_new(o, "pin_p", json_integer(cfg->pin_p));
	json_object_set_new(o, "pin_c", json_integer(cfg->pin_c));
	json_object_set_new(o, "rt_priority", json_integer(cfg->rt_priority));
	json_object_set_new(o, "halt_poll_ns", json_integer(cfg->halt_poll_ns));
	json_object_set_new(o, "dmax_ns", vs_json_num(dmax));
	json_object_set_new(doc, "config", o);

	json_object_set_new(doc, "stopped_by_signal", json_boolean(stopped));
	json_object_set_new(doc, "items", json_u64(r->items));
	json_object_set_new(doc, "elapsed_ns", vs_json_num(r->elapsed_ns));
	json_object_set_new(doc, "throughput_ops", vs_json_num(r->throughput_ops));
	json_object_set_new(doc, "T_ns", vs_json_num(r->t_ns));
	o = json_object();
	json_object_set_new(o, "producer", vs_json_num(r->cpu_producer));
	json_object_set_new(o, "consumer", vs_json_num(r->cpu_consumer));
	json_object_set_new(doc, "cpu", o);
	json_object_set_new(doc, "E_ns", vs_json_num(r->e_ns));
	json_object_set_new(doc, "batch", vs_json_num(r->batch));
	json_object_set_new(doc, "sleep_batch", vs_json_num(r->sleep_batch));
	json_object_set_new(doc, "kicks", json_u64(r->kicks));
	json_object_set_new(doc, "interrupts", json_u64(r->interrupts));
	json_object_set_new(doc, "spurious", json_u64(r->spurious));
	json_object_set_new(doc, "spurious_kicks", json_u64(r->spurious_kicks));
	json_object_set_new(doc, "spurious_interrupts", json_u64(r->spurious_interrupts));
	json_object_set_new(doc, "sleeps", json_u64(r->sleeps_p + r->sleeps_c));
	json_object_set_new(doc, "sleeps_producer", json_u64(r->sleeps_p));
	json_object_set_new(doc, "sleeps_consumer", json_u64(r->sleeps_c));
	json_object_set_new(doc, "blocks_producer", json_u64(r->blocks_p));
	json_object_set_new(doc, "blocks_consumer", json_u64(r->blocks_c));
	o = json_object();
	json_object_set_new(o, "p50", vs_json_num(l->p50));
	json_object_set_new(o, "p95", vs_json_num(l->p95));
	json_object_set_new(o, "p98", vs_json_num(l->p98));
	json_object_set_new(o, "p99", vs_json_num(l->p99));
	json_object_set_new(o, "max", vs_json_num(l->max));
	json_object_set_new(doc, "latency_ns", o);
	/* 1 when every item was stamped; n when latency came from 1 item in n. */
	json_object_set_new(doc, "latency_sample",
			    json_integer(r->latency_sample ? r->latency_sample : 1));
	if (!isnan(dmax))
		json_object_set_new(doc, "latency_within_dmax",
				    json_boolean(l->p98 <= dmax));
	o = json_object();
	json_object_set_new(o, "wp", vs_json_num(m->wp));
	json_object_set_new(o, "wc", vs_json_num(m->wc));
	json_object_set_new(o, "np", vs_json_num(m->np));
	json_object_set_new(o, "nc", vs_json_num(m->nc));
	json_object_set_new(o, "sp", vs_json_num(m->sp));
	json_object_set_new(o, "sc", vs_json_num(m->sc));
	json_object_set_new(o, "yp", vs_json_num(m->yp));
	json_object_set_new(o, "yc", vs_json_num(m->yc));
	json_object_set_new(o, "yz", vs_json_num(m->yz));
	json_object_set_new(doc, "measured", o);
	if (cfg->backend == PCDEV_BACKEND_KVM) {
		o = json_object();
		for (i = 0; i < r->n_kvm_stats; i++)
			json_object_set_new(o, r->kvm_stats[i].name,
					    json_u64(r->kvm_stats[i].value));
		json_object_set_new(doc, "kvm_stats", o);
	}
	o = json_object();
	json_object_set_new(o, "mech", json_string(vs_mech_name(model->mech)));
	json_object_set_new(o, "regime", model->regime < VS_REGIME_COUNT ?
			    json_string(vs_regime_name(model->regime)) : json_null());
	json_object_set_new(o, "T_ns", vs_json_num(model->t_ns));
	json_object_set_new(o, "E_ns", vs_json_num(model->e_ns));
	json_object_set_new(o, "D_ns", vs_json_num(model->d_ns));
	json_object_set_new(o, "batch", vs_json_num(model->batch));
	json_object_set_new(doc, "model", o);
	json_object_set_new(doc, "note", json_string(r->note));
	return doc;
}
