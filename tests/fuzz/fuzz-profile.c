// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the profile and plan parsers (`make fuzz`). The
 * first byte picks the parser, the rest is the document; any return value
 * is fine, crashes, leaks and sanitizer reports are not. The corpus in
 * tests/fuzz/corpus/ is also replayed by tests/unit/test-fuzz-corpus.c in
 * `make check`.
 */
#include <stddef.h>
#include <stdint.h>

#include "tune/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vs_profile *p = NULL;
	char err[256];

	if (!size)
		return 0;
	vs_profile_parse((const char *)data + 1, size - 1,
			 data[0] & 1 ? VS_KIND_PLAN : VS_KIND_PROFILE, &p, err,
			 sizeof(err));
	vs_profile_free(p);
	return 0;
}
