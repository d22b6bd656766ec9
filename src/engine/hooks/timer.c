/* timer.c: a thread that calls a function at a fixed interval (see
 * timer.h). */
#include "hooks/timer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pyro_timer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    int64_t interval;
    pyro_timer_tick tick;
    void *ctx;
};

#define NS 1000000000LL

/* Linux waits on a monotonic condition variable; macOS has none, so there
 * the monotonic deadline becomes a wall-clock one at each wait. */
#if defined(__APPLE__)
#define COND_CLOCK CLOCK_REALTIME
#else
#define COND_CLOCK CLOCK_MONOTONIC
#endif

static int64_t clock_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t now_ns(void)
{
    return clock_of(CLOCK_MONOTONIC);
}

static void *timer_main(void *arg)
{
    pyro_timer *t = arg;
    int64_t deadline = now_ns() + t->interval;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        int64_t at = deadline;
        if (COND_CLOCK != CLOCK_MONOTONIC)
            at += clock_of(COND_CLOCK) - now_ns();
        struct timespec until = {(time_t)(at / NS), (long)(at % NS)};
        int rc = pthread_cond_timedwait(&t->wake, &t->lock, &until);
        if (t->stopping)
            break;
        if (rc != ETIMEDOUT && now_ns() < deadline)
            continue;   /* woken early (spuriously): wait on */
        pthread_mutex_unlock(&t->lock);
        int64_t next = t->tick(t->ctx);
        pthread_mutex_lock(&t->lock);
        if (next > 0)
            t->interval = next;
        deadline += t->interval;
        int64_t now = now_ns();
        if (deadline <= now)
            deadline = now + t->interval;   /* late: no burst of ticks to catch up */
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

pyro_timer *pyro_timer_start(int64_t interval_ns, pyro_timer_tick tick, void *ctx)
{
    /* the C library's memory: freed by stop() without the GIL (tracemalloc
     * would take it in Python's RAW domain) */
    pyro_timer *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    t->interval = interval_ns > 0 ? interval_ns : 1;
    t->tick = tick;
    t->ctx = ctx;
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
#if !defined(__APPLE__)
    pthread_condattr_setclock(&cattr, COND_CLOCK);
#endif
    int rc = pthread_cond_init(&t->wake, &cattr);
    pthread_condattr_destroy(&cattr);
    if (rc == 0 && (rc = pthread_mutex_init(&t->lock, NULL)) != 0)
        pthread_cond_destroy(&t->wake);
    if (rc != 0) {
        free(t);
        errno = rc;
        PyErr_SetFromErrno(PyExc_OSError);
        return NULL;
    }
    /* The thread starts with every signal blocked and keeps them so. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);   /* it reads one small file */
    rc = pthread_create(&t->thread, &attr, timer_main, t);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_mutex_destroy(&t->lock);
        pthread_cond_destroy(&t->wake);
        free(t);
        errno = rc;
        PyErr_SetFromErrno(PyExc_OSError);
        return NULL;
    }
    return t;
}

void pyro_timer_stop(pyro_timer *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    free(t);
}

void pyro_timer_forget(pyro_timer *t)
{
    /* Its lock may have been held by the thread at the fork: never touched
     * again. */
    free(t);
}
