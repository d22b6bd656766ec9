"""Memory tools as a user meets them: pyrometer.rss() around a call or a
block (before, after, the block's own peak, nested blocks, threads, the
debugger after the block), and heap growth by type (show_growth,
HeapTracker): each checked in a program run in a fresh process."""
import json
import re
import sys
import textwrap

import pytest

from conftest import run_python

MiB = 1 << 20
LINUX = sys.platform.startswith("linux")


def run(tmp_path, source, **kw):
    prog = tmp_path / "prog.py"
    prog.write_text(textwrap.dedent(source))
    return run_python([str(prog)], **kw)


def result_of(r):
    """The JSON the program printed last on stdout."""
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def peak_can_be_reset():
    from pyrometer import _engine
    block = _engine.RSSBlock()
    block.start()
    return block.stop()[3]


needs_proc = pytest.mark.skipif(not LINUX, reason="RSS now is read from /proc")

# ---- rss ------------------------------------------------------------------

RSS_LINE = re.compile(r"^rss: [\d.]+ (B|KiB|MiB|GiB) -> [\d.]+ (B|KiB|MiB|GiB) "
                      r"\([+-][\d.]+ (B|KiB|MiB|GiB)\), peak [\d.]+ (B|KiB|MiB|GiB) "
                      r"\(([+-][\d.]+ (B|KiB|MiB|GiB)|the process's so far)\) in (.+)$")


@needs_proc
def test_decorator_prints_one_line_and_keeps_the_result(tmp_path):
    r = run(tmp_path, """
        import json, pyrometer

        @pyrometer.rss
        def load_data():
            return b"x" * (64 << 20)

        @pyrometer.rss()
        def nothing():
            return 1

        kept = load_data()
        nothing()
        res = load_data.rss_last
        print("program output")
        print(json.dumps([res.before, res.after, res.peak, res.increase, res.peak_increase,
                          str(res), nothing.rss_last.label]))
    """)
    before, after, peak, increase, peak_increase, text, label = result_of(r)
    assert r.stdout.startswith("program output\n")
    lines = r.stderr.splitlines()
    assert len(lines) == 2 and lines[0] == text, r.stderr
    assert RSS_LINE.match(lines[0]).group(7) == "load_data", lines[0]
    assert lines[1].endswith(" in nothing") and label == "nothing"
    assert increase == after - before and increase >= 60 * MiB
    assert peak >= after and peak_increase == peak - before


@needs_proc
def test_the_peak_is_the_blocks_own(tmp_path):
    """Memory taken and given back inside the block shows in its peak, not in
    its increase; the peak before the block does not."""
    r = run(tmp_path, """
        import json, pyrometer
        big = b"x" * (150 << 20)
        del big                                 # the process's peak, before the block
        with pyrometer.rss(print=False) as r:
            tmp = b"x" * (80 << 20)
            del tmp
        print(json.dumps([r.increase, r.peak_increase, r.peak_is_process, str(r)]))
    """)
    increase, peak_increase, peak_is_process, text = result_of(r)
    assert r.stderr == ""
    assert abs(increase) < 20 * MiB
    if not peak_can_be_reset():
        assert peak_is_process and "(the process's so far)" in text
        return
    assert not peak_is_process
    assert 75 * MiB <= peak_increase < 140 * MiB, text


@needs_proc
def test_nested_blocks_keep_the_outer_peak(tmp_path):
    """The inner block resets the kernel's one peak mark after the outer block
    peaked: the outer block still reports that peak."""
    r = run(tmp_path, """
        import json, pyrometer
        with pyrometer.rss("outer", print=False) as outer:
            tmp = b"x" * (120 << 20)
            del tmp
            with pyrometer.rss("inner", print=False) as inner:
                small = b"x" * (10 << 20)
            with pyrometer.rss("second inner", print=False) as second:
                tmp = b"x" * (40 << 20)
                del tmp
        print(json.dumps([outer.peak_increase, inner.peak_increase, second.peak_increase,
                          outer.peak_is_process]))
    """)
    outer, inner, second, peak_is_process = result_of(r)
    if peak_is_process:
        pytest.skip("the kernel's peak mark cannot be reset here")
    assert outer >= 115 * MiB
    assert 8 * MiB <= inner < 60 * MiB
    assert 35 * MiB <= second < 80 * MiB


@needs_proc
def test_blocks_in_threads_each_see_their_peak(tmp_path):
    """Blocks open at once in two threads (RSS is the process's): each
    reports a peak at least as high as what it took itself."""
    r = run(tmp_path, """
        import json, threading, pyrometer
        started, done, out = threading.Barrier(2), threading.Barrier(2), {}

        def work(name, mib):
            with pyrometer.rss(name, print=False) as r:
                started.wait()
                tmp = b"x" * (mib << 20)
                done.wait()
                del tmp
            out[name] = r.peak_increase, r.peak_is_process

        threads = [threading.Thread(target=work, args=(n, m)) for n, m in (("a", 60), ("b", 90))]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps(out))
    """)
    out = result_of(r)
    assert out["a"][0] >= 55 * MiB and out["b"][0] >= 85 * MiB


def test_without_reset_the_peak_is_the_processs(tmp_path):
    r = run(tmp_path, """
        import io, json, pyrometer
        big = b"x" * (100 << 20)
        del big
        out = io.StringIO()
        with pyrometer.rss("quiet", reset_peak=False, stream=out) as r:
            pass
        print(json.dumps([r.peak, r.peak_is_process, out.getvalue()]))
    """)
    peak, peak_is_process, line = result_of(r)
    assert peak_is_process and peak >= 100 * MiB
    assert line.endswith("peak %s (the process's so far) in quiet\n" % line.split("peak ")[1]
                         .split(" (")[0])
    assert r.stderr == ""


def test_a_block_that_raises(tmp_path):
    """The exception goes on unchanged, the line is printed, the exit code is
    the program's."""
    r = run(tmp_path, """
        import pyrometer

        @pyrometer.rss
        def fails():
            raise KeyError("mine")

        try:
            fails()
        except KeyError as e:
            print("caught", e)
        with pyrometer.rss("block"):
            raise SystemExit(3)
    """)
    assert r.returncode == 3
    assert r.stdout == "caught 'mine'\n"
    lines = r.stderr.splitlines()
    assert len(lines) == 2 and lines[0].endswith(" in fails") and lines[1].endswith(" in block")


def test_a_closed_stderr_does_not_harm_the_program(tmp_path):
    r = run(tmp_path, """
        import sys, pyrometer
        sys.stderr.close()
        with pyrometer.rss():
            x = 1
        print("still here")
    """)
    assert r.returncode == 0 and r.stdout == "still here\n"


def test_context_manager_label_is_where_the_with_is(tmp_path):
    r = run(tmp_path, """
        import sys, pyrometer
        with pyrometer.rss(stream=sys.stdout) as r:
            pass
        watch = pyrometer.rss(print=False)
        with watch as a:
            with watch as b:        # one object, nested
                pass
        print(a.label, b.label, a.after is not None or a.before is None)
    """)
    assert r.returncode == 0, r.stderr
    first, last = r.stdout.splitlines()
    assert first.endswith(" in prog.py:3")
    assert last == "prog.py:6 prog.py:7 True"


DEBUGGED = """
    import pyrometer

    def caller():
        with pyrometer.rss("block", enter_debugger={threshold}):
            data = b"x" * (32 << 20)
        after_block = len(data)
        print("caller goes on", after_block)

    @pyrometer.rss(enter_debugger={threshold})
    def grows():
        return b"y" * (32 << 20)

    caller()
    before_call = "module frame"
    kept = grows()
    print("done", len(kept))
"""


def test_enter_debugger_stops_in_the_callers_frame(tmp_path):
    """pdb starts after the line is printed, in the frame of the `with` (and,
    for a decorated function, of its caller): at the next line, or from 3.13
    on, where pdb.set_trace() stops at once, at the `with` or the call."""
    r = run(tmp_path, DEBUGGED.format(threshold="True"),
            input="p len(data)\nc\np before_call\nc\n")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.count("(Pdb)") >= 4
    assert re.search(r"prog\.py\((5|7)\)caller\(\)", out), out
    assert re.search(r"prog\.py\((16|17)\)<module>\(\)", out), out
    assert f"(Pdb) {32 << 20}" in out             # `data`, in caller()'s frame
    assert "(Pdb) 'module frame'" in out          # the module's frame
    assert out.rstrip().endswith(f"done {32 << 20}")
    assert r.stderr.count("rss: ") == 2


def test_enter_debugger_threshold(tmp_path):
    r = run(tmp_path, DEBUGGED.format(threshold=str(1 << 40)), input="c\nc\n")
    assert r.returncode == 0, r.stderr
    assert "(Pdb)" not in r.stdout
    assert r.stdout == f"caller goes on {32 << 20}\ndone {32 << 20}\n"


def test_async_functions_are_measured_over_their_run(tmp_path):
    r = run(tmp_path, """
        import asyncio, json, pyrometer

        @pyrometer.rss(print=False)
        async def load():
            await asyncio.sleep(0)
            return b"x" * (40 << 20)

        kept = asyncio.run(load())
        print(json.dumps([load.rss_last.increase, load.rss_last.label]))
    """)
    increase, label = result_of(r)
    assert label == "load"
    if LINUX:
        assert increase >= 35 * MiB


@needs_proc
def test_rss_readers_agree_with_proc(tmp_path):
    r = run(tmp_path, """
        import json, os, resource
        from pyrometer import _engine
        with open("/proc/self/statm") as f:
            statm = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        now = _engine.rss_now()
        peak = _engine.rss_process_peak()
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps([statm, now, peak, maxrss]))
    """)
    statm, now, peak, maxrss = result_of(r)
    assert abs(now - statm) < 4 * MiB
    assert peak >= maxrss - 4 * MiB and peak >= now


# ---- heap growth ----------------------------------------------------------

GROWTH_LINE = re.compile(r"^(\S+) +(\d+) +\+(\d+) +([+-]\d+(\.\d)? (B|KiB|MiB|GiB))$")


def rows_of(text):
    rows = []
    for line in text.splitlines():
        m = GROWTH_LINE.match(line)
        assert m, repr(line)
        rows.append((m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)))
    return rows


def test_show_growth_namedtuples(tmp_path):
    r = run(tmp_path, """
        import collections, pyrometer
        Point = collections.namedtuple("Point", "x y")
        pyrometer.show_growth(limit=3)
        print("---")
        points = [Point(i, i) for i in range(60000)]
        pyrometer.show_growth()
    """)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.split("---\n")
    assert len(rows_of(first)) == 3
    rows = rows_of(second)
    assert rows[0][0] == "Point" and rows[0][2] >= 60000 and rows[0][1] >= 60000
    assert rows[0][3].startswith("+") and rows[0][3].endswith("MiB")
    assert len(rows) <= 10
    # objgraph's columns: the name padded to the longest, then 9 and 9 wide
    lines = second.splitlines()
    assert len({len(line) for line in lines}) == 1
    width = max(len(row[0]) for row in rows)
    assert lines[0][width:width + 9].strip() == str(rows[0][1])
    assert lines[0][width + 10:width + 19].strip() == f"+{rows[0][2]}"


def test_tracker_diff_lists_and_bytes(tmp_path):
    r = run(tmp_path, """
        import json, sys, pyrometer
        tracker = pyrometer.HeapTracker()
        tracker.diff()
        table = {i: [i] for i in range(10000)}
        rows = tracker.diff()
        lists = [row for row in rows if row.name == "list"][0]
        print(json.dumps([lists.growth, lists.bytes_growth, sys.getsizeof([1]),
                          [tuple(row) for row in rows[:3]], rows[0]._fields]))
    """)
    growth, bytes_growth, one_list, top, fields = result_of(r)
    assert growth >= 10000
    assert bytes_growth >= 10000 * (one_list - 32)
    assert fields == ["name", "count", "growth", "bytes", "bytes_growth"]
    assert [row[2] for row in top] == sorted((row[2] for row in top), reverse=True)


def test_a_look_counts_nothing_of_its_own(tmp_path):
    """The snapshot a tracker keeps holds no Python object: two looks in a
    row show (almost) no growth."""
    r = run(tmp_path, """
        import json, pyrometer
        tracker = pyrometer.HeapTracker()
        tracker.diff()
        rows = tracker.diff()
        print(json.dumps([tuple(row) for row in rows]))
    """)
    rows = result_of(r)
    assert all(row[2] <= 3 for row in rows), rows


def test_first_look_is_everything_and_names_can_be_qualified(tmp_path):
    r = run(tmp_path, """
        import gc, json, pyrometer
        from pyrometer import _engine

        class Widget:
            class Part:
                pass

        parts = [Widget.Part() for _ in range(500)]
        rows = pyrometer.HeapTracker(shortnames=False).diff()
        names = {row.name: row for row in rows}
        print(json.dumps([names["__main__.Widget.Part"].growth,
                          names["__main__.Widget.Part"].count,
                          "function" in names, len(gc.get_objects()),
                          _engine.heap_census().objects]))
    """)
    growth, count, has_function, gc_objects, counted = result_of(r)
    assert growth == count == 500 and has_function
    assert abs(counted - gc_objects) < 5          # gc.get_objects() sees what a look sees


def test_no_collection_unless_asked(tmp_path):
    """Garbage cycles count until collected; collect=True collects first."""
    r = run(tmp_path, """
        import gc, json, pyrometer
        gc.disable()

        class Node:
            def __init__(self):
                self.me = self

        tracker = pyrometer.HeapTracker()
        tracker.diff()
        for _ in range(3000):
            Node()
        without = {row.name: row.growth for row in tracker.diff()}.get("Node", 0)
        for _ in range(3000):
            Node()
        collected = {row.name: row.growth for row in tracker.diff(collect=True)}.get("Node", 0)
        print(json.dumps([without, collected, gc.isenabled()]))
    """)
    without, collected, enabled = result_of(r)
    assert without == 3000 and collected == 0 and not enabled


def test_types_are_not_kept_alive_and_names_are_escaped(tmp_path):
    r = run(tmp_path, """
        import gc, io, json, weakref, pyrometer

        def make():
            cls = type("bad\\x1b[2Jname", (), {})
            return cls, [cls() for _ in range(5)]

        pyrometer.show_growth(stream=io.StringIO())
        cls, objs = make()
        ref = weakref.ref(cls)
        out = io.StringIO()
        pyrometer.show_growth(stream=out)
        del cls, objs
        gc.collect()
        print(json.dumps([out.getvalue(), ref() is None]))
    """)
    text, gone = result_of(r)
    assert gone
    assert "bad\\x1b[2Jname" in text and "\x1b" not in text


def test_shallow_sizes(tmp_path):
    """Built-in objects: what their C __sizeof__ says; a __sizeof__ written
    in Python is not run."""
    r = run(tmp_path, """
        import array, collections, json
        from pyrometer import _engine

        class Sized:
            calls = 0
            def __sizeof__(self):
                Sized.calls += 1
                return 10 ** 6

        class MyDict(dict):
            pass

        objs = [{}, {i: i for i in range(100)}, list(range(1000)), set(range(50)),
                "x" * 1000, 10 ** 100, (1, 2, 3), b"b" * 300, bytearray(700),
                collections.deque(range(100)), array.array("d", range(64)),
                MyDict(a=1), frozenset("abc"), 1.5, object()]
        same = [_engine.shallow_size(o) == o.__sizeof__() for o in objs]
        s = Sized()
        calls_before = Sized.calls
        size = _engine.shallow_size(s)
        print(json.dumps([same, size, Sized.calls - calls_before, object().__sizeof__()]))
    """)
    same, size, calls, plain = result_of(r)
    assert all(same), same
    assert calls == 0 and size < 1000


STRANGE_PROC = r"""
set -e
mount -t tmpfs none /proc
mkdir -p /proc/self
case "$1" in
  none) rmdir /proc/self ;;
  huge) printf 'VmHWM:\t  99999999999999999999999 kB\n' > /proc/self/status
        printf '12 99999999999999999999999 3\n' > /proc/self/statm ;;
  garbage) head -c 100000 /dev/urandom > /proc/self/status
           printf 'x y z' > /proc/self/statm ;;
  fifo) mkfifo /proc/self/status /proc/self/statm /proc/self/clear_refs ;;
esac
exec "$2" "$3"
"""


@pytest.mark.parametrize("case", ["none", "huge", "garbage", "fifo"])
def test_rss_without_proc_or_with_a_strange_one(tmp_path, case):
    """/proc missing, or holding numbers too big, garbage or FIFOs (in a
    mount namespace of its own): RSS now is unknown, the peak comes from
    getrusage and says so; nothing hangs, nothing raises."""
    import shutil
    import subprocess
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare")
    prog = tmp_path / "prog.py"
    prog.write_text(textwrap.dedent("""
        import json, pyrometer
        from pyrometer import _engine
        with pyrometer.rss("block", print=False) as r:
            x = b"x" * (20 << 20)
        print(json.dumps([_engine.rss_now(), r.before, r.after, r.peak, r.peak_is_process,
                          str(r)]))
    """))
    script = tmp_path / "proc.sh"
    script.write_text(STRANGE_PROC)
    r = subprocess.run(["unshare", "-m", "sh", str(script), case, sys.executable, str(prog)],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 and ("unshare" in r.stderr or "mount" in r.stderr):
        pytest.skip("no mount namespace here: " + r.stderr.strip()[:200])
    now, before, after, peak, peak_is_process, text = result_of(r)
    assert now is before is after is None
    assert peak_is_process and peak >= 20 * MiB
    assert text.startswith("rss: unknown on this system, peak ") and "(the process's so far)" in text
