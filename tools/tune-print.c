// SPDX-License-Identifier: GPL-2.0-only
/* Printing shared by apply, tune and rollback. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/safefile.h"
#include "cmd.h"
#include "output/print.h"
#include "tune-print.h"

/* Word-wrapped at 78 columns, indented: print.h's wrapper on stdout. */
void tune_print_wrapped(int indent, const char *text)
{
	vs_print_hanging(stdout, indent, 0, text);
}

void tune_print_changes(const struct vs_change *a, size_t n)
{
	char label[4 * 22 + 4];
	size_t i;

	printf("%-28s %-22s %12s    %s\n", "KNOB", "TARGET", "OLD", "NEW");
	for (i = 0; i < n; i++) {
		vs_fit(a[i].label, 22, label, sizeof(label));
		if (a[i].skip) {
			printf("%-28s %s %12s    skipped\n", a[i].knob->name, label, "-");
			tune_print_wrapped(4, a[i].why + (strncmp(a[i].why, "skipped: ", 9) ? 0 : 9));
			continue;
		}
		printf("%-28s %s %12s %s %s\n", a[i].knob->name, label, a[i].old,
		       a[i].same ? "==" : "->", a[i].new);
	}
}

json_t *tune_changes_json(const struct vs_change *a, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "knob", json_string(a[i].knob->name));
		json_object_set_new(o, "target", json_string(a[i].inst));
		json_object_set_new(o, "label", json_string(a[i].label));
		json_object_set_new(o, "old", a[i].skip ? json_null() : json_string(a[i].old));
		json_object_set_new(o, "new", a[i].skip ? json_null() : json_string(a[i].new));
		json_object_set_new(o, "action", json_string(a[i].skip ? "skip" :
							   a[i].same ? "none" : "write"));
		json_object_set_new(o, "step", json_integer(a[i].step + 1));
		if (a[i].why[0])
			json_object_set_new(o, "why", json_string(a[i].why));
		json_array_append_new(arr, o);
	}
	return arr;
}

void tune_lock_error(int err, int holder)
{
	if (err == -EWOULDBLOCK)
		vs_err("another virtsync apply, rollback or tune (pid %d) holds /run/virtsync/lock; wait for it to finish",
		       holder);
	else
		vs_err("cannot take /run/virtsync/lock: %s", vs_safe_strerror(err));
}
