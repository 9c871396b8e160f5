// SPDX-License-Identifier: GPL-2.0-only
/* script.sh: what tuned cannot say, started and stopped by tuned (lib/output/export.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output/export-impl.h"
#include "core/units.h"

/* --- script.sh ------------------------------------------------------------ */

static const char script_head[] =
"\n"
"warn() { echo \"virtsync script: $*\" >&2; }\n"
"# remember KIND TARGET OLD for stop\n"
"remember() { printf '%s\\t%s\\t%s\\n' \"$1\" \"$2\" \"$3\" >>\"$STATE\"; }\n"
"\n"
"# set_file FILE VALUE: keep FILE's value for stop, then write VALUE\n"
"set_file() {\n"
"\tlocal old\n"
"\told=$(cat \"$1\" 2>/dev/null) || { warn \"$1: cannot read, skipped\"; return 0; }\n"
"\tremember file \"$1\" \"$old\"\n"
"\techo \"$2\" >\"$1\" 2>/dev/null || warn \"$1: cannot write '$2'\"\n"
"}\n"
"\n"
"# set_affinity TID CPUS\n"
"set_affinity() {\n"
"\tlocal old\n"
"\told=$(taskset -pc \"$1\" 2>/dev/null) || { warn \"thread $1: gone, skipped\"; return 0; }\n"
"\tremember affinity \"$1\" \"${old##*: }\"\n"
"\ttaskset -pc \"$2\" \"$1\" >/dev/null || warn \"thread $1: cannot pin to $2\"\n"
"}\n"
"\n"
"# pids_of PID|NAME: that process, or those named NAME (their comm, or\n"
"# QEMU's -name [guest=]NAME)\n"
"pids_of() {\n"
"\tlocal p args\n"
"\tcase $1 in\n"
"\t*[!0-9]*) ;;\n"
"\t*) [ -d \"/proc/$1\" ] && echo \"$1\"; return 0 ;;\n"
"\tesac\n"
"\tfor p in /proc/[0-9]*; do\n"
"\t\tp=${p#/proc/}\n"
"\t\tif [ \"$(cat \"/proc/$p/comm\" 2>/dev/null)\" = \"$1\" ]; then\n"
"\t\t\techo \"$p\"; continue\n"
"\t\tfi\n"
"\t\targs=$(tr '\\0' ' ' <\"/proc/$p/cmdline\" 2>/dev/null) || continue\n"
"\t\tcase \" $args\" in\n"
"\t\t*\" -name $1 \"*|*\" -name $1,\"*|*\" -name guest=$1 \"*|*\" -name guest=$1,\"*)\n"
"\t\t\techo \"$p\" ;;\n"
"\t\tesac\n"
"\tdone\n"
"}\n"
"\n"
"# threads_of PID ROLE: TIDs by thread name, as 'virtsync apply' matches\n"
"# them (QEMU: \"CPU n/KVM\", \"IO id\", vhost-PID kernel threads; the\n"
"# reference device: vs-producer, vs-consumer, vs-vcpuN, vs-vhost)\n"
"threads_of() {\n"
"\tlocal t comm\n"
"\tfor t in /proc/\"$1\"/task/[0-9]*; do\n"
"\t\tcomm=$(cat \"$t/comm\" 2>/dev/null) || continue\n"
"\t\tcase \"$2:$comm\" in\n"
"\t\t:*|vcpu:CPU\\ [0-9]*/KVM|vcpu:vs-vcpu[0-9]*|iothread:IO\\ *|\\\n"
"\t\tvhost:vs-vhost|producer:vs-producer|producer:vs-vcpu[0-9]*|\\\n"
"\t\tconsumer:vs-consumer|consumer:vs-vhost)\n"
"\t\t\techo \"${t##*/}\" ;;\n"
"\t\tesac\n"
"\tdone\n"
"\tif [ \"$2\" = vhost ]; then\n"
"\t\tfor t in /proc/[0-9]*; do\n"
"\t\t\t[ \"$(cat \"$t/comm\" 2>/dev/null)\" = \"vhost-$1\" ] && echo \"${t#/proc/}\"\n"
"\t\tdone\n"
"\tfi\n"
"}\n"
"\n"
"# pcdev_set PID KEY VALUE: the reference device's control file\n"
"pcdev_set() {\n"
"\tlocal ctl=/run/virtsync/pcdev-$1.ctl old\n"
"\told=$(sed -n \"s/^$2=//p\" \"$ctl\" 2>/dev/null)\n"
"\t[ -n \"$old\" ] || { warn \"$ctl: no $2, skipped\"; return 0; }\n"
"\tremember pcdev \"$1 $2\" \"$old\"\n"
"\tsed \"s/^$2=.*/$2=$3/\" \"$ctl\" >\"$ctl.tmp\" && mv \"$ctl.tmp\" \"$ctl\"\n"
"}\n"
"\n"
"# qmp_poll SOCKET ID [NS]: print an iothread's poll-max-ns; set it to NS.\n"
"# (python3: tuned itself runs on it)\n"
"qmp_poll() {\n"
"\tpython3 - \"$@\" <<'PY'\n"
"import json, socket, sys\n"
"s = socket.socket(socket.AF_UNIX)\n"
"s.settimeout(3)\n"
"s.connect(sys.argv[1])\n"
"f = s.makefile('rw')\n"
"def cmd(c, a=None):\n"
"    f.write(json.dumps({'execute': c, 'arguments': a or {}}) + '\\n')\n"
"    f.flush()\n"
"    while True:\n"
"        r = json.loads(f.readline())\n"
"        if 'error' in r:\n"
"            sys.exit('QMP ' + c + ': ' + r['error'].get('desc', '?'))\n"
"        if 'return' in r:\n"
"            return r['return']\n"
"json.loads(f.readline())\n"
"cmd('qmp_capabilities')\n"
"p = '/objects/' + sys.argv[2]\n"
"print(cmd('qom-get', {'path': p, 'property': 'poll-max-ns'}))\n"
"if len(sys.argv) > 3:\n"
"    cmd('qom-set', {'path': p, 'property': 'poll-max-ns', 'value': int(sys.argv[3])})\n"
"PY\n"
"}\n"
"\n"
"# set_iothread SOCKET ID NS\n"
"set_iothread() {\n"
"\tlocal old\n"
"\told=$(qmp_poll \"$1\" \"$2\" \"$3\") || { warn \"QEMU at $1, iothread $2: skipped\"; return 0; }\n"
"\tremember iothread \"$1#$2\" \"$old\"\n"
"}\n"
"\n"
"stop() {\n"
"\t[ -f \"$STATE\" ] || return 0\n"
"\t# last change first, as 'virtsync rollback' does\n"
"\ttac \"$STATE\" | while IFS=$'\\t' read -r kind target old; do\n"
"\t\tcase $kind in\n"
"\t\tfile) echo \"$old\" >\"$target\" 2>/dev/null ;;\n"
"\t\taffinity) taskset -pc \"$old\" \"$target\" >/dev/null 2>&1 ;;\n"
"\t\tpcdev) pcdev_set ${target% *} ${target#* } \"$old\" ;;\n"
"\t\tiothread) qmp_poll \"${target%#*}\" \"${target##*#}\" \"$old\" >/dev/null ;;\n"
"\t\tesac || warn \"$kind $target: not restored\"\n"
"\tdone\n"
"\trm -f \"$STATE\"\n"
"}\n"
"\n";

/* Emit a loop over the threads a thread step selects. */
static void script_threads(FILE *f, const struct vs_export_step *s, const char *body)
{
	const char *who = s->sel[VS_SEL_PID][0] ? s->sel[VS_SEL_PID] : s->sel[VS_SEL_NAME];

	if (s->sel[VS_SEL_TID][0])
		fprintf(f, "\tfor pid in $(pids_of %s); do\n\t\tfor tid in %s; do\n", who,
			s->sel[VS_SEL_TID]);
	else
		fprintf(f, "\tfor pid in $(pids_of %s); do\n"
			"\t\tfor tid in $(threads_of \"$pid\" '%s'); do\n", who,
			s->sel[VS_SEL_ROLE]);
	fprintf(f, "\t\t\t%s\n\t\tdone\n\tdone\n", body);
}

int vs_export_script(const struct vs_export *x, char **text)
{
	char *buf = NULL, body[512];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -errno;
	fprintf(f, "#!/bin/bash\n"
		"# Written by 'virtsync export' from %s: the settings tuned cannot\n"
		"# express. tuned runs 'script.sh start' when the profile is applied\n"
		"# and 'script.sh stop' when it is unloaded; stop restores every value\n"
		"# start changed (kept in the state file below).\n", x->source);
	fprintf(f, "set -u\nSTATE=/run/virtsync/tuned-%s.state\n", x->name);
	fputs(script_head, f);
	fprintf(f, "start() {\n"
		"\tmkdir -p /run/virtsync || return 1\n"
		"\t# a start after a crash or a second start: undo the first\n"
		"\tstop\n"
		"\t: >\"$STATE\" || return 1\n");
	for (i = 0; i < x->nsteps; i++) {
		const struct vs_export_step *s = &x->steps[i];
		const struct knob_map *m = export_map_of(s->knob);
		const char *who = s->sel[VS_SEL_PID][0] ? s->sel[VS_SEL_PID] : s->sel[VS_SEL_NAME];

		if (!export_in_script(s, m))
			continue;
		fprintf(f, "\t# %s = %s%s%s\n", s->knob->name, s->value, s->why[0] ? ": " : "",
			s->why);
		switch (m->where) {
		case W_THREAD_SLACK:
			snprintf(body, sizeof(body), "set_file \"/proc/$tid/timerslack_ns\" %s",
				 s->value);
			script_threads(f, s, body);
			break;
		case W_THREAD_AFFINITY:
			snprintf(body, sizeof(body), "set_affinity \"$tid\" %s", s->value);
			script_threads(f, s, body);
			break;
		case W_IRQ_AFFINITY:
			fprintf(f, "\tfor irq in $(echo %s | tr ',' ' '); do\n"
				"\t\tset_file \"/proc/irq/$irq/smp_affinity_list\" %s\n\tdone\n",
				s->sel[VS_SEL_IRQ], s->value);
			break;
		case W_SYSFS_CSTATE:
			if (s->all_cpus)
				fprintf(f, "\tfor d in /sys/devices/system/cpu/cpu[0-9]*/cpuidle/state*; do\n");
			else
				fprintf(f, "\tfor d in $(for c in $(echo %s | tr ',' ' '); do\n"
					"\t\tcase $c in *-*) seq ${c%%-*} ${c#*-} ;; *) echo $c ;; esac\n"
					"\t\tdone | sed 's|.*|/sys/devices/system/cpu/cpu&/cpuidle/state*|'); do\n",
					s->sel[VS_SEL_CPUS]);
			fprintf(f, "\t\t[ \"$(cat $d/name 2>/dev/null)\" = '%s' ] &&\n"
				"\t\t\tset_file \"$d/disable\" %s\n\tdone\n",
				s->sel[VS_SEL_STATE], s->value);
			break;
		case W_PCDEV:
			fprintf(f, "\tfor pid in $(pids_of %s); do\n"
				"\t\tpcdev_set \"$pid\" %s %s\n\tdone\n", who, m->arg, s->value);
			break;
		case W_IOTHREAD:
			fprintf(f, "\tset_iothread '%s' %s %s\n", s->sel[VS_SEL_QMP],
				s->sel[VS_SEL_IOTHREAD], s->value);
			break;
		default:
			break;
		}
	}
	fprintf(f, "\treturn 0\n}\n\n"
		"case \"${1:-}\" in\n"
		"start) start ;;\n"
		"stop) stop ;;\n"
		"verify) exit 0 ;;\n"
		"*) echo \"usage: $0 start|stop\" >&2; exit 2 ;;\n"
		"esac\n");
	return export_memstream_done(f, text, &buf);
}
