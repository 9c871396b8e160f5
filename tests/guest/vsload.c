// SPDX-License-Identifier: GPL-2.0-only
/*
 * vsload: the workload that runs inside the test guest (a static binary in
 * its initramfs). It drives one virtqueue and reports, once a second on
 * stdout (the serial console), its own throughput and latency:
 *
 *   VSLOAD t=3 mode=blk ops=3012 ops_s=3011.8 mbps=11.76 lat_avg_us=331.2
 *          lat_p50_us=320 lat_p99_us=612 qd=1
 *
 * on one line. The harness (tests/guest/guest.sh) and the tests read these
 * lines: they are the guest's own figure, the objective tune --auto
 * optimises.
 *
 *   vsload blk [--qd N] [--rw read|write] [--bs BYTES] [--dev PATH]
 *   vsload net [--size BYTES] [--rate PPS] [--dev IFNAME]
 *   vsload rr  [--size BYTES] [--dev IFNAME]
 *   common:    [--duration S] (0: until the VM is stopped)
 *
 * blk keeps N O_DIRECT requests in flight with Linux AIO (raw syscalls: no
 * libaio in a static build). net sends raw Ethernet frames of an
 * experimental ethertype through AF_PACKET: no IP stack is involved, so the
 * guest addresses nothing but the frame's link, which QEMU's socket netdev
 * carries to 127.0.0.1. rr sends one frame and waits for the far end to
 * echo it (QD1 request/response latency).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* IEEE 802 local experimental ethertype: no stack in the guest or on the
 * far end interprets these frames. */
#define VSLOAD_ETHERTYPE 0x88b5
#define MAX_QD 256
#define MAX_SAMPLES 200000

struct opts {
	const char *mode;
	unsigned int qd;
	int write;
	size_t bs;
	const char *dev;
	size_t size;
	double rate;
	double duration;
};

/* Per-interval latency samples, sorted once a second for the percentiles. */
struct window {
	uint64_t ops, bytes;
	double lat_sum_ns;
	unsigned int n;
	uint32_t lat_ns[MAX_SAMPLES];
};

static struct window win;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void record(uint64_t lat_ns, size_t bytes)
{
	win.ops++;
	win.bytes += bytes;
	win.lat_sum_ns += (double)lat_ns;
	if (win.n < MAX_SAMPLES)
		win.lat_ns[win.n++] = lat_ns > UINT32_MAX ? UINT32_MAX : (uint32_t)lat_ns;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *mode, unsigned int t, double secs,
		   unsigned int qd)
{
	double avg = 0, p50 = 0, p99 = 0;

	if (win.n) {
		qsort(win.lat_ns, win.n, sizeof(win.lat_ns[0]), cmp_u32);
		avg = win.lat_sum_ns / (double)win.ops / 1000.0;
		p50 = win.lat_ns[win.n / 2] / 1000.0;
		p99 = win.lat_ns[(size_t)((win.n - 1) * 0.99)] / 1000.0;
	}
	printf("VSLOAD t=%u mode=%s ops=%llu ops_s=%.1f mbps=%.2f "
	       "lat_avg_us=%.1f lat_p50_us=%.1f lat_p99_us=%.1f qd=%u\n",
	       t, mode, (unsigned long long)win.ops, (double)win.ops / secs,
	       (double)win.bytes / secs / 1e6, avg, p50, p99, qd);
	fflush(stdout);
	memset(&win, 0, offsetof(struct window, lat_ns));
}

/* Calls report() whenever a second has passed; false once the run is over. */
struct ticker {
	uint64_t start, last;
	unsigned int t;
	double duration;
};

static int ticker_tick(struct ticker *tk, const char *mode, unsigned int qd)
{
	uint64_t now = now_ns();

	if (now - tk->last >= 1000000000ull) {
		report(mode, ++tk->t, (double)(now - tk->last) / 1e9, qd);
		tk->last = now;
	}
	return !(tk->duration > 0 && (double)(now - tk->start) / 1e9 >= tk->duration);
}

static void ticker_init(struct ticker *tk, double duration)
{
	tk->start = tk->last = now_ns();
	tk->t = 0;
	tk->duration = duration;
}

/* --- block: N requests in flight through Linux AIO ------------------------ */

static long sys_io_setup(unsigned int nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

static long sys_io_submit(aio_context_t ctx, long n, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, ctx, n, iocbs);
}

static long sys_io_getevents(aio_context_t ctx, long min, long max,
			     struct io_event *ev, struct timespec *tmo)
{
	return syscall(SYS_io_getevents, ctx, min, max, ev, tmo);
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t xorshift(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

struct blk_req {
	struct iocb cb;
	uint64_t start_ns;
	void *buf;
};

static int run_blk(const struct opts *o)
{
	static struct blk_req reqs[MAX_QD];
	struct io_event ev[MAX_QD];
	aio_context_t ctx = 0;
	uint64_t dev_bytes = 0, blocks;
	struct ticker tk;
	unsigned int i, inflight = 0;
	int fd;

	fd = open(o->dev, (o->write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "vsload: %s: %s\n", o->dev, strerror(errno));
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &dev_bytes) || dev_bytes < o->bs) {
		fprintf(stderr, "vsload: %s: cannot read its size\n", o->dev);
		return 1;
	}
	blocks = dev_bytes / o->bs;
	if (sys_io_setup(o->qd, &ctx)) {
		fprintf(stderr, "vsload: io_setup: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < o->qd; i++) {
		struct blk_req *r = &reqs[i];

		if (posix_memalign(&r->buf, 4096, o->bs))
			return 1;
		memset(r->buf, 0x5a, o->bs);
		r->cb.aio_data = i;
		r->cb.aio_fildes = (uint32_t)fd;
		r->cb.aio_lio_opcode = o->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
		r->cb.aio_buf = (uint64_t)(uintptr_t)r->buf;
		r->cb.aio_nbytes = o->bs;
	}
	ticker_init(&tk, o->duration);
	for (;;) {
		struct timespec tmo = { 0, 100000000 };
		long n;

		/* Refill: every free slot gets a new request at a random block. */
		for (i = 0; i < o->qd && inflight < o->qd; i++) {
			struct blk_req *r = &reqs[i];
			struct iocb *cbp = &r->cb;

			if (r->start_ns)
				continue;
			r->cb.aio_offset = (int64_t)((xorshift() % blocks) * o->bs);
			r->start_ns = now_ns();
			if (sys_io_submit(ctx, 1, &cbp) != 1) {
				fprintf(stderr, "vsload: io_submit: %s\n", strerror(errno));
				return 1;
			}
			inflight++;
		}
		n = sys_io_getevents(ctx, 1, o->qd, ev, &tmo);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "vsload: io_getevents: %s\n", strerror(errno));
			return 1;
		}
		for (i = 0; n > 0 && i < (unsigned int)n; i++) {
			struct blk_req *r = &reqs[ev[i].data];

			if (ev[i].res != (int64_t)o->bs) {
				fprintf(stderr, "vsload: request failed: %lld\n",
					(long long)ev[i].res);
				return 1;
			}
			record(now_ns() - r->start_ns, o->bs);
			r->start_ns = 0;
			inflight--;
		}
		if (!ticker_tick(&tk, "blk", o->qd))
			return 0;
	}
}

/* --- network: raw frames over AF_PACKET ---------------------------------- */

struct frame {
	uint8_t dst[6], src[6];
	uint16_t type;
	uint64_t seq;
	uint64_t sent_ns;
} __attribute__((packed));

static int open_packet(const char *ifname, struct sockaddr_ll *to)
{
	int fd = socket(AF_PACKET, SOCK_RAW, htons(VSLOAD_ETHERTYPE));
	unsigned int idx = if_nametoindex(ifname);

	if (fd < 0 || !idx) {
		fprintf(stderr, "vsload: %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	memset(to, 0, sizeof(*to));
	to->sll_family = AF_PACKET;
	to->sll_protocol = htons(VSLOAD_ETHERTYPE);
	to->sll_ifindex = (int)idx;
	to->sll_halen = 6;
	memset(to->sll_addr, 0xff, 6);
	if (bind(fd, (struct sockaddr *)to, sizeof(*to))) {
		fprintf(stderr, "vsload: bind %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	return fd;
}

static void frame_init(uint8_t *buf, size_t size)
{
	struct frame *f = (struct frame *)buf;

	memset(buf, 0, size);
	memset(f->dst, 0xff, 6);
	f->src[0] = 0x02;	/* locally administered */
	f->src[5] = 0x01;
	f->type = htons(VSLOAD_ETHERTYPE);
}

static int run_net(const struct opts *o, int rr)
{
	static uint8_t buf[9000], in[9000];
	struct frame *f = (struct frame *)buf;
	struct sockaddr_ll to;
	struct ticker tk;
	uint64_t seq = 0, next_ns;
	double gap_ns = o->rate > 0 ? 1e9 / o->rate : 0;
	int fd = open_packet(o->dev, &to);

	if (fd < 0)
		return 1;
	frame_init(buf, o->size);
	ticker_init(&tk, o->duration);
	next_ns = now_ns();
	for (;;) {
		uint64_t t0 = now_ns();

		if (gap_ns > 0 && t0 < next_ns) {
			uint64_t d = next_ns - t0;
			struct timespec ts = { (time_t)(d / 1000000000ull),
					       (long)(d % 1000000000ull) };

			nanosleep(&ts, NULL);
			t0 = now_ns();
		}
		f->seq = ++seq;
		f->sent_ns = t0;
		if (send(fd, buf, o->size, 0) < 0 && errno != ENOBUFS) {
			fprintf(stderr, "vsload: send: %s\n", strerror(errno));
			return 1;
		}
		if (!rr) {
			record(0, o->size);
			next_ns += (uint64_t)gap_ns;
			/* a backlog after a stall is not sent as a burst */
			if (next_ns + 1000000000ull < t0)
				next_ns = t0;
		} else {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			/* the echo of this request, or give up after 1 s */
			while (poll(&p, 1, 1000) == 1) {
				ssize_t n = recv(fd, in, sizeof(in), 0);
				const struct frame *e = (const struct frame *)in;

				if (n >= (ssize_t)sizeof(*e) && e->seq == seq) {
					record(now_ns() - t0, o->size);
					break;
				}
			}
		}
		if (!ticker_tick(&tk, rr ? "rr" : "net", rr ? 1 : 0))
			return 0;
	}
}

/* --- options -------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: vsload blk|net|rr [--qd N] [--rw read|write] "
		"[--bs BYTES] [--size BYTES] [--rate PPS] [--dev X] "
		"[--duration S]\n");
	return 2;
}

static int parse_num(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .qd = 1, .bs = 4096, .size = 64, .duration = 0 };
	int i;

	if (argc < 2)
		return usage();
	o.mode = argv[1];
	for (i = 2; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		double x;

		if (!strcmp(k, "--rw") && (!strcmp(v, "read") || !strcmp(v, "write")))
			o.write = !strcmp(v, "write");
		else if (!strcmp(k, "--dev"))
			o.dev = v;
		else if (!strcmp(k, "--qd") && !parse_num(v, 1, MAX_QD, &x))
			o.qd = (unsigned int)x;
		else if (!strcmp(k, "--bs") && !parse_num(v, 512, 1 << 20, &x) &&
			 (size_t)x % 512 == 0)
			o.bs = (size_t)x;
		else if (!strcmp(k, "--size") && !parse_num(v, sizeof(struct frame), 1514, &x))
			o.size = (size_t)x;
		else if (!strcmp(k, "--rate") && !parse_num(v, 0, 1e7, &x))
			o.rate = x;
		else if (!strcmp(k, "--duration") && !parse_num(v, 0, 1e6, &x))
			o.duration = x;
		else {
			fprintf(stderr, "vsload: bad option '%s %s'\n", k, v);
			return usage();
		}
	}
	if (i < argc)
		return usage();
	printf("VSLOAD start mode=%s\n", o.mode);
	fflush(stdout);
	if (!strcmp(o.mode, "blk")) {
		if (!o.dev)
			o.dev = "/dev/vda";
		return run_blk(&o);
	}
	if (!strcmp(o.mode, "net") || !strcmp(o.mode, "rr")) {
		if (!o.dev)
			o.dev = "eth0";
		return run_net(&o, !strcmp(o.mode, "rr"));
	}
	return usage();
}
