#include "whens.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "diag.h"
#include "jqx.h"
#include "xalloc.h"

/*
 * The shared page holds one word, written by the child as it starts each
 * test: the start time in microseconds of CLOCK_MONOTONIC, shifted left
 * by MARK_INDEX_BITS, or'ed with the test's index.  One word, so the stage
 * never reads a start time with another test's index.
 */
enum { MARK_INDEX_BITS = 16 };
#define WHENS_MAX ((size_t)1 << MARK_INDEX_BITS)

/* What the stage sends before the record's JSON text. */
struct request {
	uint32_t from, upto;	/* run tests from..upto-1, stop at a true one */
	uint32_t len;		/* of the JSON text that follows */
};

struct whens {
	struct jqx_prog *prog;
	size_t *directive;	/* the directive of each test */
	size_t n;
	uint64_t budget_us;
	size_t budget_bytes;
	_Atomic uint64_t *mark;	/* the shared page */
	pid_t pid;		/* the child, 0: none */
	int to_child, from_child;
	struct buf json;	/* the record being tested */
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
set_mark(struct whens *w, size_t index)
{
	atomic_store(w->mark, now_us() << MARK_INDEX_BITS | index);
}

struct whens *
whens_compile(const char *const *exprs, const size_t *directive, size_t n,
    size_t *bad, struct buf *err)
{
	struct jqx_prog *prog;
	struct whens *w;
	void *page;

	if (n > WHENS_MAX) {
		*bad = WHENS_MAX;
		buf_printf(err, "more than %zu directives have a when",
		    WHENS_MAX);
		return NULL;
	}
	if ((prog = jqx_compile(exprs, n, bad, err)) == NULL)
		return NULL;
	page = mmap(NULL, sizeof(*w->mark), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		diag_err(1, "mmap");
	w = xcalloc(1, sizeof(*w));
	w->prog = prog;
	w->directive = xcalloc(n, sizeof(*w->directive));
	memcpy(w->directive, directive, n * sizeof(*directive));
	w->n = n;
	w->mark = page;
	whens_limit(w, 200, 64);
	return w;
}

void
whens_limit(struct whens *w, size_t ms, size_t mib)
{
	w->budget_us = (uint64_t)ms * 1000;
	w->budget_bytes = mib << 20;
}

/* ---- the child ---- */

/* Read exactly `len` bytes; 0 at a clean end of file, -1 otherwise. */
static int
read_all(int fd, void *data, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 && done == 0 ? 0 : -1;
		done += (size_t)n;
	}
	return 1;
}

/* The process's address space now, in bytes (0 if unknown). */
static size_t
address_space(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void
limit(int resource, rlim_t value)
{
	struct rlimit rl = { value, value };

	(void)setrlimit(resource, &rl);
}

/* Standard input, output and error on /dev/null: a test reaches neither
 * the stream nor the terminal. */
static void
quiet_fds(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		_exit(1);
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* Should the stage be stopped (SIGSTOP) and miss a deadline, CPU time
 * still ends a test that never would: the record's budget, plus a second. */
static void
cpu_backstop(uint32_t tests, uint64_t budget_us)
{
	struct rusage used;
	struct rlimit rl;

	if (getrusage(RUSAGE_SELF, &used) < 0 || getrlimit(RLIMIT_CPU, &rl) < 0)
		return;
	rl.rlim_cur = (rlim_t)used.ru_utime.tv_sec + (rlim_t)used.ru_stime.tv_sec +
	    (rlim_t)(tests * budget_us / 1000000) + 2;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_CPU, &rl);
}

static _Noreturn void
child_main(struct whens *w, int in, int out, pid_t stage)
{
	struct buf text = BUF_INIT;
	struct request req;
	uint32_t i, answer;
	size_t space;
	jv record;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != stage)
		_exit(0);
	quiet_fds();
	limit(RLIMIT_CORE, 0);
	if ((space = address_space()) != 0)
		limit(RLIMIT_AS, space + w->budget_bytes);
	while (read_all(in, &req, sizeof(req)) > 0) {
		buf_reset(&text);
		buf_grow(&text, req.len);
		if (read_all(in, text.data, req.len) <= 0)
			break;
		text.len = req.len;
		text.data[text.len] = '\0';
		cpu_backstop(req.upto - req.from, w->budget_us);
		record = jqx_parse(text.data, text.len);
		for (i = req.from; i < req.upto && i < w->n; i++) {
			set_mark(w, i);
			if (jqx_test(w->prog, i, record))
				break;
		}
		jqx_free(record);
		answer = i;
		if (write(out, &answer, sizeof(answer)) != sizeof(answer))
			break;
	}
	_exit(0);
}

/* ---- the stage's side ---- */

static int
start_child(struct whens *w)
{
	int down[2], up[2];
	pid_t stage = getpid();

	if (pipe2(down, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(up, O_CLOEXEC) < 0) {
		close(down[0]);
		close(down[1]);
		return -1;
	}
	w->pid = fork();
	if (w->pid == 0) {
		close(down[1]);
		close(up[0]);
		child_main(w, down[0], up[1], stage);
	}
	close(down[0]);
	close(up[1]);
	if (w->pid < 0) {
		close(down[1]);
		close(up[0]);
		w->pid = 0;
		return -1;
	}
	w->to_child = down[1];
	w->from_child = up[0];
	/* The stage never blocks on the child: poll sets the pace. */
	fcntl(w->to_child, F_SETFL, O_NONBLOCK);
	fcntl(w->from_child, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Stop the child (SIGKILL: it may be deep in a test) and reap it; its
 * wait status, or 0 when none ran. */
static int
stop_child(struct whens *w)
{
	int status = 0;

	if (w->pid == 0)
		return 0;
	close(w->to_child);
	close(w->from_child);
	kill(w->pid, SIGKILL);
	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	w->pid = 0;
	return status;
}

enum outcome { ANSWERED, TIMED_OUT, DIED };

/*
 * Hand the record to the child and wait for its answer: the first test
 * in [from, upto) that holds, or upto.  The time of each test counts
 * from the mark the child sets when it starts it (the stage sets the first
 * one, so writing and parsing count too).
 */
static enum outcome
ask(struct whens *w, size_t from, size_t upto, uint32_t *answer)
{
	struct request req = { (uint32_t)from, (uint32_t)upto,
	    (uint32_t)w->json.len };
	size_t sent = 0, total = sizeof(req) + w->json.len, got = 0;
	struct pollfd pfd[2];
	uint64_t mark, now;
	ssize_t n;

	if (w->pid == 0 && start_child(w) < 0)
		return DIED;
	set_mark(w, from);
	for (;;) {
		mark = atomic_load(w->mark);
		now = now_us();
		if (now >= (mark >> MARK_INDEX_BITS) + w->budget_us)
			return TIMED_OUT;
		pfd[0] = (struct pollfd){ w->from_child, POLLIN, 0 };
		pfd[1] = (struct pollfd){ sent < total ? w->to_child : -1,
		    POLLOUT, 0 };
		n = poll(pfd, 2, (int)(((mark >> MARK_INDEX_BITS) +
		    w->budget_us - now + 999) / 1000));
		if (n < 0 && errno != EINTR)
			return DIED;
		if (n <= 0)
			continue;
		if (pfd[1].revents & (POLLERR | POLLHUP))
			return DIED;
		if (pfd[1].revents & POLLOUT) {
			const char *from_buf = sent < sizeof(req) ?
			    (const char *)&req + sent :
			    w->json.data + (sent - sizeof(req));
			size_t chunk = sent < sizeof(req) ?
			    sizeof(req) - sent : total - sent;

			n = write(w->to_child, from_buf, chunk);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return DIED;
			sent += n > 0 ? (size_t)n : 0;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(w->from_child, (char *)answer + got,
			    sizeof(*answer) - got);
			if (n == 0 || (n < 0 && errno != EAGAIN &&
			    errno != EINTR))
				return DIED;
			got += n > 0 ? (size_t)n : 0;
			if (got == sizeof(*answer))
				return ANSWERED;
		}
	}
}

static void
warn_past_budget(const struct whens *w, const struct rec *r, size_t index,
    enum outcome outcome, int status)
{
	char cause[80];

	if (outcome == TIMED_OUT)
		snprintf(cause, sizeof(cause), "ran past limits.when_ms "
		    "(%llu ms)", (unsigned long long)(w->budget_us / 1000));
	else if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL &&
	    WTERMSIG(status) != SIGABRT)
		snprintf(cause, sizeof(cause), "crashed (signal %d)",
		    WTERMSIG(status));
	else
		snprintf(cause, sizeof(cause), "ran past limits.when_mb "
		    "(%zu MiB)", w->budget_bytes >> 20);
	diag_warnx("%s:%ld: directives[%zu].when %s: counted as false",
	    r->source ? r->source : "-", r->lineno, w->directive[index],
	    cause);
}

size_t
whens_first(struct whens *w, size_t upto, const struct rec *r)
{
	enum outcome outcome;
	uint32_t answer;
	size_t from = 0, failed;
	int status;

	if (upto > w->n)
		upto = w->n;
	buf_reset(&w->json);
	jqx_dump(rec_value(r), &w->json);
	while (from < upto) {
		outcome = ask(w, from, upto, &answer);
		if (outcome == ANSWERED)
			return answer < upto ? answer : upto;
		failed = (size_t)(atomic_load(w->mark) &
		    (WHENS_MAX - 1));
		if (failed < from || failed >= upto)
			failed = from;
		status = stop_child(w);
		warn_past_budget(w, r, failed, outcome, status);
		from = failed + 1;
	}
	return upto;
}

void
whens_free(struct whens *w)
{
	if (w == NULL)
		return;
	stop_child(w);
	munmap((void *)w->mark, sizeof(*w->mark));
	jqx_prog_free(w->prog);
	free(w->directive);
	buf_free(&w->json);
	free(w);
}
