// SPDX-License-Identifier: GPL-2.0-only
/* A VM's name from QEMU's command line, as QEMU and libvirt write it. */
#include <errno.h>
#include <string.h>

#include "test.h"
#include "sources/vmname.h"

#define CMD(s) s, sizeof(s)

static void test_names(void **state)
{
	static const struct { const char *cmd; size_t n; const char *want; } cases[] = {
		{ CMD("qemu-system-x86_64\0-name\0web1\0-m\0512"), "web1" },
		{ CMD("qemu\0-name\0guest=db,debug-threads=on\0-S"), "db" },
		{ CMD("qemu\0-name\0debug-threads=on,guest=late"), "late" },
		{ CMD("qemu\0-name\0a,,b,process=x"), "a,b" },
		{ CMD("qemu\0-name\0plain,process=qemu:plain"), "plain" },
		{ CMD("qemu\0-name=eq\0"), "eq" },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = vs_vm_name_parse(cases[i].cmd, cases[i].n, buf, sizeof(buf));

		if (err || strcmp(buf, cases[i].want))
			fail_msg("case %zu: %d '%s', want '%s'", i, err, err ? "" : buf,
				 cases[i].want);
	}
	__T("none", vs_vm_name_parse(CMD("qemu\0-m\0512"), buf, sizeof(buf)) == -ENOENT);
	__T("-name last", vs_vm_name_parse(CMD("qemu\0-name"), buf, sizeof(buf)) == -ENOENT);
	__T("keys only", vs_vm_name_parse(CMD("q\0-name\0debug-threads=on"), buf,
					  sizeof(buf)) == -ENOENT);
	__T("truncated", !vs_vm_name_parse(CMD("q\0-name\0abcdefgh"), buf, 4) &&
	    !strcmp(buf, "abc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
