#include "durable.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
durable_sync_parent(const char *path)
{
	struct buf dir = BUF_INIT;
	size_t len = strlen(path);
	int fd, status = -1, saved;

	/* Drop the last component and the slashes around it ("a//b/"). */
	while (len > 1 && path[len - 1] == '/')
		len--;
	while (len > 0 && path[len - 1] != '/')
		len--;
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len == 0)
		buf_putc(&dir, '.');
	else
		buf_add(&dir, path, len);
	if ((fd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		status = fsync(fd);
		saved = errno;
		close(fd);
		errno = saved;
	}
	buf_free(&dir);
	return status;
}

/* mkdir -p: `path` is a writable copy, cut at each slash in turn. */
static int
make_dirs(char *path, int sync, struct buf *failed)
{
	char *slash = strrchr(path, '/');
	int status;

	if (mkdir(path, 0755) == 0)
		goto made;
	if (errno == EEXIST)
		return 0;
	if (errno != ENOENT || slash == NULL || slash == path)
		goto fail;
	*slash = '\0';
	status = make_dirs(path, sync, failed);
	*slash = '/';
	if (status < 0)
		return -1;
	if (mkdir(path, 0755) == 0)
		goto made;
	if (errno == EEXIST)
		return 0;
fail:
	if (failed)
		buf_puts(failed, path);
	return -1;
made:
	if (sync && durable_sync_parent(path) < 0)
		goto fail;
	return 0;
}

int
durable_open_dir(const char *path, int sync, struct buf *failed)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct buf copy = BUF_INIT;

	if (fd >= 0 || errno != ENOENT)
		goto done;
	buf_puts(&copy, path);
	if (make_dirs(copy.data, sync, failed) < 0) {
		int saved = errno;

		buf_free(&copy);
		errno = saved;
		return -1;
	}
	buf_free(&copy);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
done:
	if (fd < 0 && failed && failed->len == 0)
		buf_puts(failed, path);
	return fd;
}

/* The next component of *rel (its length; *rel moves past it and the
 * slashes after it), or 0 at the end. */
static size_t
next_component(const char **rel, char *name, size_t size)
{
	size_t len = strcspn(*rel, "/");

	if (len >= size) {
		errno = ENAMETOOLONG;
		return (size_t)-1;
	}
	memcpy(name, *rel, len);
	name[len] = '\0';
	*rel += len;
	*rel += strspn(*rel, "/");
	return len;
}

/* The O_NOFOLLOW walk of durable_open_beneath, for kernels without
 * openat2(2).  With `mkdirs`, missing directories are made on the way
 * (and with `sync` made durable); `failed` gets the part that failed. */
static int
walk_beneath(int rootfd, const char *rel, int flags, mode_t mode, int mkdirs,
    int sync, struct buf *failed)
{
	char name[NAME_MAX + 1];
	const char *at = rel;
	int dfd = rootfd, fd, saved;
	size_t len;

	if (*rel == '/') {
		errno = EXDEV;
		goto fail;
	}
	for (;;) {
		const char *start = at;

		if ((len = next_component(&at, name, sizeof(name))) ==
		    (size_t)-1)
			goto fail;
		if (len == 0) {		/* "" or a trailing slash */
			fd = dfd == rootfd ? openat(rootfd, ".", flags, mode) :
			    dfd;
			if (fd >= 0)
				return fd;
			goto fail;
		}
		if (!strcmp(name, "..")) {
			errno = EXDEV;
			goto fail;
		}
		if (*at == '\0' && !mkdirs) {
			fd = openat(dfd, name, flags | O_NOFOLLOW, mode);
		} else {
			if (mkdirs && mkdirat(dfd, name, 0755) == 0 && sync &&
			    fsync(dfd) < 0)
				fd = -1;
			else
				fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			if (failed)
				buf_add(failed, rel, (size_t)(start - rel) +
				    len);
			goto fail;
		}
		if (dfd != rootfd)
			close(dfd);
		dfd = fd;
		if (*at == '\0')
			return fd;
	}
fail:
	saved = errno;
	if (dfd != rootfd)
		close(dfd);
	errno = saved;
	return -1;
}

int
durable_open_beneath(int rootfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = flags & O_CREAT ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how,
	    sizeof(how));

	if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
		return fd;
	/* No openat2(2), or a seccomp filter that refuses it. */
	return walk_beneath(rootfd, rel, flags | O_CLOEXEC, mode, 0, 0, NULL);
}

int
durable_open_dir_beneath(int rootfd, const char *rel, int sync,
    struct buf *failed)
{
	int fd = durable_open_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY, 0);

	if (fd >= 0 || errno != ENOENT) {
		if (fd < 0 && failed)
			buf_puts(failed, *rel ? rel : ".");
		return fd;
	}
	return walk_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0,
	    1, sync, failed);
}

/* write(2) all `len` bytes, going on after short writes and EINTR.  0, or
 * -1 with errno set (some bytes may have been written). */
static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Write data[0..len) to a new temporary file `<prefix><pid>-<n>` in the
 * directory dfd (its name into `tmp`), and fsync it when `sync`.  The
 * descriptor is returned open and locked with flock: imgp-store --check
 * --repair removes only temporary files that no live writer holds.  -1
 * with errno set, the file removed, on failure.
 */
static int
write_temp(int dfd, const char *prefix, const void *data, size_t len,
    int sync, struct buf *tmp)
{
	static unsigned long serial;
	int fd, saved;

	do {
		buf_reset(tmp);
		buf_printf(tmp, "%s%ld-%lu", prefix, (long)getpid(), serial++);
		fd = openat(dfd, tmp->data,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	} while (fd < 0 && errno == EEXIST);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) == 0 && write_all(fd, data, len) == 0 &&
	    (!sync || fsync(fd) == 0))
		return fd;
	saved = errno;
	close(fd);
	unlinkat(dfd, tmp->data, 0);
	errno = saved;
	return -1;
}

/* rename(2) that never replaces: renameat2's flag where the file system
 * has it, else link(2), which fails on an existing name everywhere. */
static int
rename_noreplace(int dfd, const char *from, const char *to)
{
	if (renameat2(dfd, from, dfd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(dfd, from, dfd, to, 0) < 0)
		return -1;
	unlinkat(dfd, from, 0);	/* a leftover is --check's to remove */
	return 0;
}

int
durable_putat(int dfd, const char *dir, const char *name,
    const char *tmp_prefix, const void *data, size_t len, int flags,
    struct buf *failed)
{
	struct buf tmp = BUF_INIT;
	int fd, status = -1, saved, sync = !(flags & DURABLE_NO_SYNC);

	if ((fd = write_temp(dfd, tmp_prefix, data, len, sync,
	    &tmp)) < 0) {
		buf_printf(failed, "write %s/%s", dir, tmp.len ? tmp.data :
		    tmp_prefix);
		buf_free(&tmp);		/* already removed */
		return -1;
	}
	if ((flags & DURABLE_NO_REPLACE ?
	    rename_noreplace(dfd, tmp.data, name) :
	    renameat(dfd, tmp.data, dfd, name)) < 0) {
		saved = errno;
		unlinkat(dfd, tmp.data, 0);
		errno = saved;
		if (errno != EEXIST)
			buf_printf(failed, "rename %s/%s to %s", dir,
			    tmp.data, name);
	} else if (sync && fsync(dfd) < 0) {
		buf_printf(failed, "fsync directory %s", dir);
	} else {
		status = 0;
	}
	saved = errno;
	close(fd);
	buf_free(&tmp);
	errno = saved;
	return status;
}

int
durable_put(const char *root, const char *dir, const char *name,
    const char *tmp_prefix, const void *data, size_t len, int flags,
    struct buf *failed)
{
	struct buf where = BUF_INIT, missing = BUF_INIT;
	int sync = !(flags & DURABLE_NO_SYNC), rootfd, dfd, status = -1,
	    saved;

	if ((rootfd = durable_open_dir(root, sync, failed)) < 0)
		return -1;
	buf_printf(&where, "%s/%s", root, dir);
	if ((dfd = durable_open_dir_beneath(rootfd, dir, sync,
	    &missing)) < 0) {
		buf_printf(failed, "%s/%s", root, missing.data);
	} else {
		status = durable_putat(dfd, where.data, name, tmp_prefix, data,
		    len, flags, failed);
		saved = errno;
		close(dfd);
		errno = saved;
	}
	saved = errno;
	close(rootfd);
	buf_free(&where);
	buf_free(&missing);
	errno = saved;
	return status;
}
