// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errmsg.h"
#include "core/json.h"
#include "core/safefile.h"
#include "core/sysfs.h"

json_t *vs_json_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

int vs_json_save_check(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash;
	struct stat st;

	if (!path || !*path)
		return vs_errf(err, errlen, -EINVAL, "no file name");
	if (!lstat(path, &st)) {
		if (S_ISDIR(st.st_mode))
			return vs_errf(err, errlen, -EISDIR, "'%s' is a directory: give a file name",
				       path);
		/* root does not write through a link someone may have planted */
		if (S_ISLNK(st.st_mode))
			return vs_errf(err, errlen, -ELOOP,
				       "'%s' is a symbolic link: give the file it points to", path);
		if (!S_ISREG(st.st_mode))
			return vs_errf(err, errlen, -EINVAL, "'%s' is not a regular file", path);
	} else if (errno != ENOENT) {
		return vs_errf(err, errlen, -errno, "'%s': %s", path, strerror(errno));
	}
	slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (stat(dir, &st))
		return vs_errf(err, errlen, -errno, "cannot write '%s': %s: %s", path, dir,
			       strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return vs_errf(err, errlen, -ENOTDIR, "cannot write '%s': %s is not a directory",
			       path, dir);
	/* the temporary goes in the same directory */
	if (access(dir, W_OK | X_OK))
		return vs_errf(err, errlen, -errno, "cannot write '%s': %s: %s", path, dir,
			       strerror(errno));
	return 0;
}

json_t *vs_json_load(const char *path, int *err)
{
	int fd = vs_safe_open_read(path, 0);
	json_t *doc;

	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	doc = json_loadfd(fd, 0, NULL);
	close(fd);
	*err = doc ? 0 : -EINVAL;
	return doc;
}

int vs_json_save(const char *path, const json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				JSON_REAL_PRECISION(10));
	int err;

	if (!text)
		return -ENOMEM;
	/* a --save target sits in a directory no lock covers (/tmp): its
	 * own leftovers are cleaned when it is written again (as every
	 * vs_file_replace() does) */
	err = vs_file_replace_text(path, text, 0644, 0);
	free(text);
	return err;
}
