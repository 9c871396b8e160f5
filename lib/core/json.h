/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_CORE_JSON_H
#define VS_CORE_JSON_H

#include <jansson.h>

/* A JSON number, or null where the value is not defined (NaN, inf): plain
 * printf("%f") would write "nan" and break the document. */
json_t *vs_json_num(double v);

#endif
