/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_TEST_H
#define VS_TEST_H

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* libperf-style check: __T("what failed", condition). */
#define __T(text, cond) \
	do { \
		if (!(cond)) \
			fail_msg("%s:%d: %s (%s)", __FILE__, __LINE__, text, #cond); \
	} while (0)

/* |a - b| <= rel * |b| with the numbers in the failure message. */
#define __T_REL(text, a, b, rel) \
	do { \
		double __a = (a), __b = (b); \
		double __d = __a > __b ? __a - __b : __b - __a; \
		double __m = __b < 0 ? -__b : __b; \
		if (!(__d <= (rel) * __m)) \
			fail_msg("%s:%d: %s: %g vs %g (rel %g > %g)", __FILE__, \
				 __LINE__, text, __a, __b, __m ? __d / __m : __d, \
				 (double)(rel)); \
	} while (0)

/* Skip a case whose environment is missing, saying why (tests/run.sh
 * shows the reason next to the case). */
#define __SKIP(why) \
	do { \
		print_message("SKIP: %s\n", why); \
		skip(); \
	} while (0)

#endif
