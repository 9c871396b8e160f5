/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VS_CORE_JSON_H
#define VS_CORE_JSON_H

#include <stddef.h>

#include <jansson.h>

/* A JSON number, or null where the value is not defined (NaN, inf): plain
 * printf("%f") would write "nan" and break the document. */
json_t *vs_json_num(double v);

/*
 * Saved documents (every --save). Check first, before anything changes,
 * that `path` can be written the way vs_json_save() writes it (a temporary
 * in its directory, renamed over it): -EISDIR when it is a directory,
 * -EINVAL not a regular file, -ENOTDIR / -ENOENT / -EACCES for its
 * directory, with one sentence in err. Then save: the whole document or,
 * on failure, the old file untouched. -errno.
 */
int vs_json_save_check(const char *path, char *err, size_t errlen);
int vs_json_save(const char *path, const json_t *doc);
/* Load a JSON file virtsync keeps (a cache under /run/virtsync), opened
 * inside a --root tree and refused when not a regular file: the document,
 * or NULL with *err -ENOENT (no file) or another -errno (-EINVAL: not
 * JSON). */
json_t *vs_json_load(const char *path, int *err);

#endif
