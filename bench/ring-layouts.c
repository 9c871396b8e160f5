// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/ring-layouts: the cost of handing a message from one CPU to
 * another in the reference device's two ring layouts, against the batch
 * size, in one run (lib/sources/handoff.h; Fip-see's Table 1 experiment,
 * seed 001 Sec. 5.1.1): P sends a batch of requests and polls for the
 * responses, C answers each as soon as it sees it.
 *   virtio  split virtqueue: desc + avail (one avail->idx store per batch),
 *           used (one used->idx store per message)
 *   slots   Fip-see: 64-byte slots with a flag each, no shared index,
 *           separate request and response rings
 * Each round measures every (batch, layout) cell in an order that rotates
 * from round to round, so that a host moving the two vCPUs apart during the
 * run hits both layouts alike; a cell's figure is the median of its rounds,
 * with the range. The ratio column is virtio / slots, per round, median.
 *
 * usage: ring-layouts [ROUNDS [P_CPU C_CPU [BATCHES_PER_CELL]]]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcdev/tsc.h"
#include "sources/handoff.h"

#define MAX_ROUNDS 32

static const unsigned int batches[] = { 1, 2, 4, 8, 16, 32, 64 };
#define NB (sizeof(batches) / sizeof(batches[0]))

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double med(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	static double ns[NB][2][MAX_ROUNDS], cyc[NB][2][MAX_ROUNDS], ratio[NB][MAX_ROUNDS];
	unsigned int rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 5, r, i, l, k;
	struct vs_handoff_opts o;
	char err[160];

	vs_handoff_opts_default(&o);
	if (argc > 3) {
		o.cpu_p = atoi(argv[2]);
		o.cpu_c = atoi(argv[3]);
	}
	if (argc > 4)
		o.batches = (unsigned int)atoi(argv[4]);
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "ring-layouts: ROUNDS must be 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	printf("ring-layouts: P on CPU %d, C on CPU %d, ring of %u, %u batches per cell, "
	       "%u rounds; TSC %.3f GHz\n", o.cpu_p, o.cpu_c, o.len, o.batches, rounds,
	       vs_tsc_per_ns());
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < 2 * NB; k++) {
			/* rotate the order of the cells from round to round */
			unsigned int cell = (k + r * 3) % (2 * NB);
			struct vs_handoff h;
			enum pcdev_ring lay;

			i = cell / 2;
			l = (cell + r) % 2;
			lay = l ? PCDEV_RING_SLOTS : PCDEV_RING_VIRTIO;
			o.batch = batches[i];
			if (vs_handoff_measure(lay, &o, &h, err, sizeof(err))) {
				fprintf(stderr, "ring-layouts: %s\n", err);
				return 1;
			}
			ns[i][l][r] = h.ns_per_msg;
			cyc[i][l][r] = h.cycles_per_msg;
		}
		for (i = 0; i < NB; i++)
			ratio[i][r] = ns[i][0][r] / ns[i][1][r];
	}
	printf("%6s  %-24s  %-24s  %s\n", "", "virtio split ring", "Fip-see slots", "virtio/");
	printf("%6s  %8s %7s %7s  %8s %7s %7s  %6s\n", "batch", "ns/msg", "min", "max",
	       "ns/msg", "min", "max", "slots");
	for (i = 0; i < NB; i++) {
		double a[MAX_ROUNDS], b[MAX_ROUNDS], c[MAX_ROUNDS];

		memcpy(a, ns[i][0], sizeof(a));
		memcpy(b, ns[i][1], sizeof(b));
		memcpy(c, ratio[i], sizeof(c));
		printf("%6u  %8.1f", batches[i], med(a, rounds));
		printf(" %7.1f %7.1f  %8.1f", a[0], a[rounds - 1], med(b, rounds));
		printf(" %7.1f %7.1f  %6.2f\n", b[0], b[rounds - 1], med(c, rounds));
	}
	printf("TSC cycles per message (median):");
	for (i = 0; i < NB; i++) {
		double a[MAX_ROUNDS], b[MAX_ROUNDS];

		memcpy(a, cyc[i][0], sizeof(a));
		memcpy(b, cyc[i][1], sizeof(b));
		printf(" %u: %.0f/%.0f", batches[i], med(a, rounds), med(b, rounds));
	}
	printf("  (virtio/slots)\n");
	return 0;
}
