// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>

#include "core/json.h"

json_t *vs_json_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}
