"""RSS around a call: `pyrometer.rss()` as a decorator or a context manager.

The engine (C) reads the system's figures and keeps the peaks of blocks
open at once right (runtime/rss_blocks.h); this layer wraps calls and
blocks, prints the line and opens the debugger.
"""
import functools
import os
import sys
import threading

from . import _engine

_STEPS = ("B", "KiB", "MiB", "GiB", "TiB")


def _size(n, sign=False):
    """Bytes as people read them: '512 B', '38.6 MiB' ('+38.6 MiB' with sign)."""
    value, step = float(abs(n)), 0
    while value >= 1024.0 and step < len(_STEPS) - 1:
        value /= 1024.0
        step += 1
    text = f"{value:.0f} B" if step == 0 else f"{value:.1f} {_STEPS[step]}"
    if n < 0:
        return "-" + text
    return "+" + text if sign else text


class RSSResult:
    """The resident set size, in bytes, before and after a block and at its
    peak.  RSS is the process's: other threads' memory counts too.

    before, after: None where the system tells no current RSS (only Linux
    does here).  peak: the largest RSS inside the block; when the kernel's
    peak mark could not be reset (`peak_is_process`: no /proc, a sandbox
    refused, or reset_peak=False) it is the process's peak so far, which may
    come from before the block.  increase = after - before, peak_increase =
    peak - before (None when unknown)."""

    __slots__ = ("before", "after", "peak", "peak_is_process", "label")

    def __init__(self, label=None):
        self.label = label
        self.before = self.after = self.peak = None
        self.peak_is_process = False

    @property
    def increase(self):
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def peak_increase(self):
        if self.before is None or self.peak is None:
            return None
        return self.peak - self.before

    def __str__(self):
        if self.before is None:
            text = "rss: unknown on this system"
        elif self.after is None:
            text = f"rss: {_size(self.before)} before, running"
        else:
            text = (f"rss: {_size(self.before)} -> {_size(self.after)} "
                    f"({_size(self.increase, sign=True)})")
        if self.peak is not None:
            if self.peak_is_process:
                text += f", peak {_size(self.peak)} (the process's so far)"
            elif self.before is not None:
                text += f", peak {_size(self.peak)} ({_size(self.peak_increase, sign=True)})"
            else:
                text += f", peak {_size(self.peak)}"
        if self.label:
            text += f" in {self.label}"
        return text

    def __repr__(self):
        return (f"<RSSResult before={self.before} after={self.after} peak={self.peak}"
                f" peak_is_process={self.peak_is_process} label={self.label!r}>")


def _is_coroutine_function(func):
    code = getattr(func, "__code__", None)
    return code is not None and bool(code.co_flags & 0x80)   # CO_COROUTINE


class RSSWatch:
    """What `pyrometer.rss()` returns: a decorator and a context manager
    (see `rss`).  One object may wrap any number of calls and blocks, nested
    or in several threads."""

    def __init__(self, label=None, *, print=True, stream=None, enter_debugger=False,
                 reset_peak=True):
        if isinstance(enter_debugger, bool) or enter_debugger is None:
            self._threshold = 0 if enter_debugger else None
            self._always = bool(enter_debugger)
        else:
            self._threshold = float(enter_debugger)
            self._always = False
        self.label = label
        self.print = print
        self.stream = stream
        self.reset_peak = reset_peak
        self._blocks = threading.local()

    # ---- one measure --------------------------------------------------------

    def _open(self, label):
        result = RSSResult(label)
        block = _engine.RSSBlock()
        try:
            result.before = block.start(reset=self.reset_peak)
        except Exception:            # out of memory: measure nothing, harm nothing
            pass
        return block, result

    def _close(self, block, result):
        try:
            result.before, result.after, result.peak, own = block.stop()
            result.peak_is_process = result.peak is not None and not own
        except Exception:
            return result
        if self.print:
            stream = self.stream if self.stream is not None else sys.stderr
            try:
                if stream is not None:
                    stream.write(f"{result}\n")
                    stream.flush()
            except (OSError, ValueError, AttributeError):   # a closed or broken stream
                pass
        return result

    def _wants_debugger(self, result):
        if self._always:
            return True
        if self._threshold is None or result.increase is None:
            return False
        return result.increase > self._threshold

    @staticmethod
    def _debug(frame):
        """pdb in `frame`, stopping at its next line, as breakpoint() there
        would (and, like breakpoint(), not with PYTHONBREAKPOINT=0)."""
        if os.environ.get("PYTHONBREAKPOINT") == "0":
            return
        import pdb
        pdb.Pdb().set_trace(frame)

    # ---- context manager ----------------------------------------------------

    def __enter__(self):
        label = self.label
        if label is None:
            caller = sys._getframe(1)
            label = f"{os.path.basename(caller.f_code.co_filename)}:{caller.f_lineno}"
        block, result = self._open(label)
        stack = self._blocks.__dict__.setdefault("stack", [])
        stack.append((block, result))
        return result

    def __exit__(self, exc_type, exc, tb):
        block, result = self._blocks.stack.pop()
        self._close(block, result)
        if exc_type is None and self._wants_debugger(result):
            self._debug(sys._getframe(1))
        return False

    # ---- decorator ----------------------------------------------------------

    def __call__(self, func):
        label = self.label or getattr(func, "__qualname__", None) or repr(func)
        watch = self

        if _is_coroutine_function(func):
            @functools.wraps(func)
            async def wrapper(*args, **kwargs):
                block, result = watch._open(label)
                try:
                    value = await func(*args, **kwargs)
                finally:
                    wrapper.rss_last = watch._close(block, result)
                return value
        else:
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                block, result = watch._open(label)
                try:
                    value = func(*args, **kwargs)
                finally:
                    wrapper.rss_last = watch._close(block, result)
                if watch._wants_debugger(result):
                    watch._debug(sys._getframe(1))
                return value

        wrapper.rss_last = None
        return wrapper


def rss(label=None, *, print=True, stream=None, enter_debugger=False, reset_peak=True):
    """The resident set size before and after a call or a block, and its
    peak inside:

        @pyrometer.rss                  # or @pyrometer.rss("loading")
        def load_data(): ...            # load_data.rss_last: the last call's

        with pyrometer.rss() as r:
            build_index()
        r.increase, r.peak_increase     # bytes

    When the block ends, one line goes to `stream` (default sys.stderr),
    unless print=False:

        rss: 102.3 MiB -> 140.9 MiB (+38.6 MiB), peak 190.2 MiB (+87.9 MiB) in load_data

    label: what the line names (default: the function, or file:line of the
    `with`).  enter_debugger: True, or a number of bytes: when the block
    (ended without an exception) grew RSS by more than that, pdb starts in
    the caller's frame, after the line is printed.

    RSS is the process's, not the thread's: memory other threads take
    meanwhile counts too.  On Linux the peak is the block's own: the
    kernel's peak mark (VmHWM) is reset at the block's start (blocks nested
    or open in other threads keep theirs; the engine reads the mark before
    every reset).  That reset lowers what getrusage() and `time -v` report
    for the process afterwards; reset_peak=False leaves the mark alone.
    Where it is not reset (or cannot be: no /proc, a sandbox), the peak is
    the process's so far and the result says so (`peak_is_process`).
    Elsewhere than Linux before and after are unknown (None) and the peak
    comes from getrusage().
    """
    if callable(label) and not isinstance(label, str):
        return RSSWatch()(label)
    return RSSWatch(label, print=print, stream=stream, enter_debugger=enter_debugger,
                    reset_peak=reset_peak)
