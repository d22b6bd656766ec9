/* term_signal.c: SIGTERM -> a pipe -> a thread that saves the profile (see
 * term_signal.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* pipe2; Python.h defines it too */
#endif
#include "hooks/term_signal.h"

#ifndef _WIN32
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

static int wake_fd = -1;             /* the pipe's write end, -1: not watching */
static PyObject *callback;
static double grace_seconds = 10.0;
static int atfork_added;

enum { WAKE_TERM = 1, WAKE_STOP = 2 };

static void on_sigterm(int signum)
{
    (void)signum;
    int saved = errno;
    char c = WAKE_TERM;
    if (wake_fd >= 0)
        (void)!write(wake_fd, &c, 1);
    errno = saved;
}

static int ours_installed(void)
{
    struct sigaction now;
    return sigaction(SIGTERM, NULL, &now) == 0 && now.sa_handler == on_sigterm;
}

static void restore_default(void)
{
    if (ours_installed())
        signal(SIGTERM, SIG_DFL);
}

/* End the process as an unhandled SIGTERM would. */
static void die_of_sigterm(void)
{
    signal(SIGTERM, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    kill(getpid(), SIGTERM);
    for (;;)
        pause();
}

static void *deadline_main(void *arg)
{
    (void)arg;
    struct timespec ts;
    ts.tv_sec = (time_t)grace_seconds;
    ts.tv_nsec = (long)((grace_seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    die_of_sigterm();
    return NULL;
}

/* Start a detached thread that takes no signal: they stay the program's. */
static int start_thread(void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}

static void *writer_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char c = 0;
    ssize_t r;
    do
        r = read(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    close(fd);
    if (r != 1 || c != WAKE_TERM)
        return NULL;                 /* stopped */
    start_thread(deadline_main, NULL);
    if (Py_IsInitialized()) {
        PyGILState_STATE g = PyGILState_Ensure();
        PyObject *cb = callback != NULL ? Py_NewRef(callback) : NULL;
        if (cb != NULL) {
            PyObject *res = PyObject_CallNoArgs(cb);
            Py_XDECREF(res);
            PyErr_Clear();
            Py_DECREF(cb);
        }
        PyGILState_Release(g);
    }
    die_of_sigterm();
    return NULL;
}

static void stop_watching(void)
{
    restore_default();
    if (wake_fd >= 0) {
        char c = WAKE_STOP;
        (void)!write(wake_fd, &c, 1);
        close(wake_fd);
        wake_fd = -1;
    }
}

/* In a forked child the thread is gone: the child does not inherit the
 * handler (the runner sets it up again there if it wants it). */
static void after_fork_in_child(void)
{
    restore_default();
    if (wake_fd >= 0)
        close(wake_fd);
    wake_fd = -1;
}

PyObject *pyro_py_term_watch(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *cb;
    double grace = 10.0;
    if (!PyArg_ParseTuple(args, "O|d:term_watch", &cb, &grace))
        return NULL;
    if (!PyCallable_Check(cb)) {
        PyErr_SetString(PyExc_TypeError, "term_watch: callback must be callable");
        return NULL;
    }
    stop_watching();
    struct sigaction now;
    if (sigaction(SIGTERM, NULL, &now) < 0 || now.sa_handler != SIG_DFL)
        Py_RETURN_FALSE;             /* the program handles SIGTERM itself */
    if (!atfork_added) {
        if (pthread_atfork(NULL, NULL, after_fork_in_child) != 0)
            Py_RETURN_FALSE;
        atfork_added = 1;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        Py_RETURN_FALSE;
    if (start_thread(writer_main, (void *)(intptr_t)fds[0]) < 0) {
        close(fds[0]);
        close(fds[1]);
        Py_RETURN_FALSE;
    }
    Py_XSETREF(callback, Py_NewRef(cb));
    grace_seconds = grace > 0 ? grace : 10.0;
    wake_fd = fds[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigterm;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTERM, &sa, NULL) < 0) {
        stop_watching();
        Py_RETURN_FALSE;
    }
    Py_RETURN_TRUE;
}

PyObject *pyro_py_term_unwatch(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    stop_watching();
    Py_CLEAR(callback);
    Py_RETURN_NONE;
}

#else  /* _WIN32: no SIGTERM to watch */

PyObject *pyro_py_term_watch(PyObject *module, PyObject *args)
{
    (void)module;
    (void)args;
    Py_RETURN_FALSE;
}

PyObject *pyro_py_term_unwatch(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    Py_RETURN_NONE;
}

#endif
