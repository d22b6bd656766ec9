"""The engine under AddressSanitizer + UndefinedBehaviorSanitizer, and under
valgrind: memory errors become failing tests, not silent corruption."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import HERE, PROGRAMS, lprof_bytes

ROOT = HERE.parent
WORKLOAD = '''
import sys, threading
sys.path.insert(0, {programs!r})
import pyrometer
import recursion, generators, exceptions, objects, async_prog
def damage_tree(path):
    # the reader of the tree on cut and damaged data: errors, never crashes
    data = open(path, "rb").read()
    for k in range(1, 120):
        at = len(data) - 1 - (k * 37) % min(len(data), 3000)
        bad = bytearray(data)
        bad[at] ^= 1 << (k % 8)
        for blob in (bytes(bad), data[:len(data) - k * 11]):
            open(path + ".bad", "wb").write(blob)
            try:
                pyrometer._engine.load_profile(path + ".bad")
            except (pyrometer._engine.FormatError, ValueError):
                pass
def html_pages(stats, tree):
    # the HTML writer with and without the tree, hostile names, a damaged tree
    from pyrometer import _convert
    page = _convert._html_template()
    pyrometer._engine.write_html({out!r} + ".html", page, stats=stats, tree=tree)
    pyrometer._engine.write_html({out!r} + ".html", page, stats=stats, meta={{"f": "</script>"}})
    odd = {{("</script>\\udcff", 1, "<!--\\u2028\\ud800" * 50): (1, 1, 0.5, 0.5, {{}})}}
    pyrometer._engine.write_html({out!r} + ".html", page, stats=odd)
    try:
        pyrometer._engine.write_html({out!r} + ".html", page, stats=stats,
                                     tree=dict(tree, func=[len(tree["funcs"])] * len(tree["func"])))
    except pyrometer._engine.FormatError:
        pass
def line_files():
    # line profiles saved, read back (also cut short) and made a page
    from pyrometer import _convert, _lines
    lp = pyrometer.LineProfiler(objects.main)
    with lp:
        objects.main()
    lp.dump({out!r} + ".lines")
    data = open({out!r} + ".lines", "rb").read()
    stats = _lines.load({out!r} + ".lines")
    pyrometer._engine.write_html({out!r} + ".lines.html", _convert._html_template(), lines=stats)
    pyrometer._engine.format_lines_diff(stats, stats)
    pyrometer._engine.format_lines_diff(stats, dict(stats, functions=[]))
    # memory per line: the report, saved and read back, a page
    mp = pyrometer.LineProfiler(objects.main, memory=True)
    with mp:
        objects.main()
        t = threading.Thread(target=objects.main); t.start(); t.join()
    mp.dump({out!r} + ".mem.lines")
    mstats = _lines.load({out!r} + ".mem.lines")
    pyrometer._engine.format_lines_memory(mstats, rss_start=1e6)
    pyrometer._engine.write_lines_json({out!r} + ".mem.json", mstats)
    pyrometer._engine.write_lines_json({out!r} + ".json", stats)
    _lines.format_report(mstats, metric="time")
    pyrometer._engine.write_html({out!r} + ".mem.html", _convert._html_template(), lines=mstats)
    for k in range(1, 60):
        open({out!r} + ".bad", "wb").write(data[:len(data) - k * 7])
        try:
            _lines.load({out!r} + ".bad")
        except (pyrometer._engine.FormatError, ValueError):
            pass
    # line_profiler's pickle (the test wrote it), read, shown and merged
    lprof = _lines.load({out!r} + ".lprof")
    pyrometer._engine.format_lines(lprof, show_zero=True, color=True)
    pyrometer._engine.merge_lines([stats, lprof, stats])
    pyrometer._engine.merge_lines([lprof, dict(lprof, unit=1e-6)])
def everything():
    for m in (recursion, generators, exceptions, objects, async_prog):
        m.main()
    t = threading.Thread(target=objects.main); t.start(); t.join()
for kw in ({{}}, {{"builtins": False}}, {{"fold_depth": 4}}, {{"_node_limit": 50}},
           {{"memory": True}}, {{"memory": True, "fold_depth": 4}}):
    prof = pyrometer.Profiler(**kw)
    prof.enable(); everything(); prof.disable()
    stats = prof.get_stats()
    prof.dump({out!r})
    tree = prof.get_tree()
    loaded = pyrometer._engine.load_profile({out!r})
    assert loaded[1].pop("meta")["clock"] and loaded == (stats, tree)
    for w in ("write_collapsed", "write_speedscope", "write_flamegraph"):
        getattr(pyrometer._engine, w)({out!r} + "." + w, tree)
    # the terminal tree and the folded imports, of the real tree and a root
    fstats, ftree, _n = pyrometer._engine.fold_imports(tree)
    n = len(ftree["funcs"])
    for keep in ([True] * n, [False] * n, [i % 2 == 0 for i in range(n)]):
        pyrometer._engine.keep_frames(ftree, keep)
    groups = [("g", 0, "a"), ("g", 0, "b")]
    for group_of in ([0] * n, [i % 2 for i in range(n)], [-1 if i % 3 else 1 for i in range(n)]):
        pyrometer._engine.group_frames(ftree, group_of, groups)
    for t in (tree, ftree):
        pyrometer._engine.format_tree(t, root="/tmp", max_lines=30)
        pyrometer._engine.format_tree(t, min_share=0.0, max_lines=100000)
        if kw.get("memory"):
            pyrometer._engine.format_tree(t, metric="net", max_lines=100)
    html_pages(stats, tree)
    damage_tree({out!r})
    prof.clear()
    prof.enable(); everything(); prof.disable()   # code objects still point at cleared entries
    prof.get_stats()
# merge and diff: the saved profile with itself, trees by hand and real
from pyrometer import _engine
saved = _engine.load_stats({out!r})
keys = list(saved)[:3]
tree = {{"pyrometer": "calltree", "version": 1, "funcs": keys, "parent": [-1, 0, 1, 0],
        "func": [0, 1, 2, 2], "calls": [1, 2, 3, 4], "self": [0.5] * 4, "total": [1.0] * 4,
        "folded": False}}
trees = [tree, prof.get_tree()]
merged, mtree = _engine.merge_profiles([(saved, trees[0]), (stats, trees[1]), (saved, tree)])
assert mtree is not None and _engine.merge_profiles([(saved, None), (saved, tree)])[1] is None
for by in ("tottime", "cumtime", "calls"):
    _engine.format_diff(saved, merged, sort=by, fail_above=10.0, limit=20)
    _engine.format_diff(stats, {{}}, sort=by)
# one program under two folders: diff and merge match it by portable path
moved = {{(k[0].replace("/", "/elsewhere/", 1) if k[0].startswith("/") else k[0], k[1], k[2]): v
         for k, v in saved.items()}}
_engine.format_diff(saved, moved)
_engine.merge_profiles([(saved, None), (moved, None)])
# pstats' strip_dirs, and the report for a terminal: colour, names fitted
# from the left (non-ASCII and escaped names too)
stripped = _engine.strip_dirs(moved)
odd = {{("/\u00e9t\u00e9/\u4e2d\u6587/" * 9 + "\x1bx.py", 1, "f\u00fc" * 20): (1, 1, 0.5, 0.5, {{}}),
        ("~", 0, "<built-in method " + "y" * 90 + ">"): (2, 2, 0.25, 0.25, {{}})}}
for w in (0, 1, 30, 70, 90, 200):
    for st in (saved, stripped, odd):
        _engine.format_report(st, color=True, width=w, limit=40)
        _engine.format_report(st, color=True, width=w, sampled=True, unit="samples")
line_files()
print("ok")
'''


def write_lprof(path):
    """A line_profiler file for the workload: times of the programs' lines."""
    timings = {(str(PROGRAMS / "objects.py"), 1, "main"): [(2, 3, 500), (3, 1, 70), (2, 1, 9)],
               (str(PROGRAMS / "recursion.py"), 4, "fib"): [(5, 100, 12345)]}
    path.write_bytes(lprof_bytes(timings, 1e-9, 4))


def build_sanitized(tmp_path):
    """Build pyrometer._engine with ASan/UBSan into tmp_path/pkg/pyrometer."""
    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "src" / "pyrometer", pkg / "pyrometer",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    code = f'''
import glob, os, shutil, sys
from setuptools import Extension
from setuptools.dist import Distribution
flags = ["-std=c11", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined",
         "-fno-omit-frame-pointer", "-g", "-O1"]
engine = {str(ROOT / "src" / "engine")!r}
ext = Extension("pyrometer._engine",
                sorted(glob.glob(engine + "/*.c") + glob.glob(engine + "/*/*.c")),
                include_dirs=[engine],
                extra_compile_args=flags, extra_link_args=["-fsanitize=address,undefined"])
d = Distribution({{"name": "asan", "ext_modules": [ext]}})
cmd = d.get_command_obj("build_ext")
cmd.build_lib = {str(tmp_path / "lib")!r}
cmd.build_temp = {str(tmp_path / "tmp")!r}
cmd.ensure_finalized(); cmd.run()
so = glob.glob({str(tmp_path / "lib")!r} + "/pyrometer/_engine*.so")[0]
shutil.copy(so, {str(pkg / "pyrometer")!r})
'''
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail("sanitized build failed:\n" + r.stderr[-3000:])
    return pkg


def libasan():
    out = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True)
    path = out.stdout.strip()
    return path if os.path.isabs(path) and os.path.exists(path) else None


@pytest.fixture(scope="module")
def sanitized(tmp_path_factory):
    """(package folder, environment) of an ASan/UBSan build of the engine."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    asan = libasan()
    if asan is None:
        pytest.skip("gcc has no libasan")
    pkg = build_sanitized(tmp_path_factory.mktemp("asan"))
    env = dict(os.environ, LD_PRELOAD=asan, PYTHONPATH=str(pkg), PYTHONMALLOC="malloc",
               ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    return pkg, env


def test_engine_under_asan_ubsan(tmp_path, sanitized):
    pkg, env = sanitized
    script = tmp_path / "work.py"
    script.write_text(WORKLOAD.format(programs=str(PROGRAMS), out=str(tmp_path / "w.prof")))
    write_lprof(tmp_path / "w.prof.lprof")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       env=env, timeout=600)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-5000:]
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-5000:]


def test_readers_under_asan_ubsan_on_hostile_and_fuzzed_files(tmp_path, sanitized):
    """Every crafted file of test_hostile and 1 500 fuzzed ones through the
    readers of the sanitized engine."""
    import test_hostile
    import test_lprof
    pkg, env = sanitized
    seeds = test_hostile.fuzz_bases(tmp_path)
    for name, data in {**test_hostile.HOSTILE_PROFS, **test_hostile.HOSTILE_LINES,
                       **test_lprof.HOSTILE_LPROF}.items():
        if not data:        # nothing to change in it
            continue
        (tmp_path / f"crafted-{name}").write_bytes(data)
        seeds.append(f"crafted-{name}")
    r = subprocess.run([sys.executable, "-c", test_hostile.FUZZ, ",".join(seeds), "1500",
                        str(tmp_path)], capture_output=True, text=True, env=env, timeout=1200)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-5000:]
    assert r.returncode == 0, r.stderr[-5000:]
    bad, nbad, _worst = eval(r.stdout.strip().splitlines()[-1])
    assert nbad == 0, bad


MEMORY_WORKLOAD = r'''
import array, collections, gc, threading
import pyrometer
from pyrometer import _engine
# heap censuses over every kind of object, hostile names, types that come and go
odd = [type("bad\x1b[2J\u2028\x85" * 20, (), {})() for _ in range(50)]
class Sized:
    def __sizeof__(self):
        raise RuntimeError("never run")
class Dict(dict):
    pass
stuff = [{}, [1] * 100, set(range(100)), "x" * 1000, 10 ** 100, b"b" * 300, bytearray(70),
         collections.deque(range(100)), array.array("d", range(64)), Dict(a=1), Sized(),
         frozenset("abc"), collections.OrderedDict(a=1), memoryview(b"abc")]
for o in stuff:
    _engine.shallow_size(o)
tracker = pyrometer.HeapTracker()
tracker.diff()
for short in (True, False):
    earlier = _engine.heap_census(shortnames=short)
    made = [type("T%d" % (i % 7), (), {})() for i in range(3000)]
    later = _engine.heap_census(shortnames=short)
    for limit in (None, 0, 1, 5, 10 ** 9):
        _engine.heap_growth(later, earlier, limit)
        _engine.format_growth(later, earlier, limit)
        _engine.format_growth(later, None, limit)
    later.counts(), len(later), repr(later)
    del made
    gc.collect()
    _engine.format_growth(_engine.heap_census(shortnames=short), later)
tracker.print_diff(limit=None, stream=open("/dev/null", "w"), collect=True)
# RSS blocks: nested, in threads, left open, restarted
def blocks():
    outer = _engine.RSSBlock(); outer.start()
    for reset in (True, False, True):
        inner = _engine.RSSBlock(); inner.start(reset=reset)
        data = b"x" * (1 << 22)
        abandoned = _engine.RSSBlock(); abandoned.start()
        del abandoned
        inner.stop(); inner.stop()
    again = _engine.RSSBlock(); again.start(); again.start(); again.stop()
    outer.stop()
threads = [threading.Thread(target=blocks) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
with pyrometer.rss(print=False):
    with pyrometer.rss(print=False):
        pass
_engine.rss_now(), _engine.rss_process_peak()
print("ok")
'''


def test_memory_tools_under_asan_ubsan(tmp_path, sanitized):
    """Heap censuses, their growth and text, and RSS blocks (nested, in
    threads, abandoned) in the sanitized engine."""
    pkg, env = sanitized
    r = subprocess.run([sys.executable, "-c", MEMORY_WORKLOAD], capture_output=True, text=True,
                       env=env, timeout=600)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-5000:]
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-5000:]


TIMELINE_WORKLOAD = r'''
import asyncio, os, sys, threading, time
import pyrometer
from pyrometer import _engine
out = sys.argv[1]
# a sampler thread at 1 ms over few samples and calls: halvings of both
tl = pyrometer.Timeline(interval=0.001, max_samples=32, max_calls=16)

@tl.bracket
def work(n):
    return [b"x" * 1000 for _ in range(n)]

@tl.bracket
def gen(n):
    yield from range(n)

@tl.bracket
async def coro():
    await asyncio.sleep(0)

prof = pyrometer.Profiler(memory=True)
with tl:
    prof.enable()               # the traced heap, read by the sampler
    for i in range(60):
        work(200)
        list(gen(3))
    asyncio.run(coro())
    threads = [threading.Thread(target=work, args=(300,)) for _ in range(4)]
    for t in threads: t.start()
    for t in threads: t.join()
    pid = os.fork()
    if pid == 0:
        work(10)
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(0.05)
    tl.data(), tl.samples()
    prof.disable()
tree = prof.get_tree()
for fmt in ("mem", "svg", "html", "mprof", "massif"):
    tl.write(out + "." + fmt, fmt, tree=tree, metric="peak", tree_kind="peak")
for fmt in ("svg", "html", "mprof", "massif", "mem"):
    _engine.convert_timeline(out + ".mem", out + ".again." + fmt, fmt, title="t\x01<&\u2028")
_engine.read_timeline(out + ".mem")
never = pyrometer.Timeline()    # never started: empty files
for fmt in ("mem", "svg", "massif", "mprof"):
    never.write(out + ".never." + fmt, fmt)
tl.start()
tl.stop()
print("ok")
'''


def test_timeline_under_asan_ubsan(tmp_path, sanitized):
    """The timeline's sampler thread, brackets, halvings, a fork, every
    writer, then crafted and fuzzed .mem files through the readers."""
    import test_timeline
    pkg, env = sanitized
    out = tmp_path / "t"
    r = subprocess.run([sys.executable, "-c", TIMELINE_WORKLOAD, str(out)], capture_output=True,
                       text=True, env=env, timeout=600)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-5000:]
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-5000:]
    for name, (data, _why) in test_timeline.HOSTILE.items():
        bad = tmp_path / "bad.mem"
        bad.write_bytes(data)
        r = subprocess.run([sys.executable, "-c", "import sys; from pyrometer import _engine\n"
                            "try: _engine.read_timeline(sys.argv[1])\n"
                            "except _engine.FormatError: print('refused')", str(bad)],
                           capture_output=True, text=True, env=env, timeout=120)
        assert r.stdout.strip() == "refused", (name, r.stderr[-3000:])
    r = test_timeline.fuzz(str(out) + ".mem", 600, env=env)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-5000:]


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_engine_under_valgrind(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(WORKLOAD.format(programs=str(PROGRAMS), out=str(tmp_path / "v.prof")))
    write_lprof(tmp_path / "v.prof.lprof")
    so = [str(p) for p in (ROOT / "src" / "pyrometer").glob("_engine*.so")]
    env = dict(os.environ, PYTHONMALLOC="malloc")
    r = subprocess.run(["valgrind", "--error-exitcode=99", "--errors-for-leak-kinds=none",
                        "--leak-check=no", "--track-origins=no", "-q",
                        sys.executable, str(script)],
                       capture_output=True, text=True, env=env, timeout=900)
    # Only errors in our engine count; the interpreter is not ours to judge.
    ours = [blk for blk in r.stderr.split("\n==") if "_engine" in blk]
    assert not ours, r.stderr[-5000:]
    assert r.stdout.strip() == "ok", r.stderr[-3000:]


SAMPLED_FUZZ = r'''
import os, random, sys
from pyrometer import _convert, _engine
folder, runs = sys.argv[1], int(sys.argv[2])
bases = [open(os.path.join(folder, n), "rb").read() for n in sorted(os.listdir(folder))]
rng = random.Random(4321)
path = os.path.join(folder, "fuzzed.out")
page = _convert._html_template()
read = 0
def use(got):
    stats, tree, sampled, unit = got["stats"], got["tree"], got["sampled"], got["unit"]
    _engine.format_report(stats, sampled=sampled, unit=unit, mode="callers")
    _engine.format_diff(stats, stats, sampled=sampled, unit=unit)
    _engine.write_callgrind(path, stats, sampled=sampled)
    _engine.format_dot(stats, sampled=sampled)
    _engine.write_html(path, page, stats=stats, tree=tree, sampled=sampled)
    _engine.dump_stats(path, stats, tree, sampled=sampled)
    _engine.read_profile(path)
    if tree is not None:
        _engine.merge_profiles([(stats, tree), (stats, tree)])
        _engine.write_collapsed(path, tree)
        _engine.write_flamegraph(path, tree)
        _engine.write_speedscope(path, tree)
for i in range(runs):
    data = bytearray(rng.choice(bases))
    for _ in range(rng.choice([0, 1, 2, 4, 8])):
        at = rng.randrange(len(data) or 1)
        what = rng.random()
        if what < 0.4:
            data[at:at + 1] = bytes([rng.choice(b"; \n\t0123456789:(){}~\x00\xff")])
        elif what < 0.6:
            del data[at:at + rng.randrange(1, 12)]
        elif what < 0.8:
            data[at:at] = data[rng.randrange(len(data) or 1):][:rng.randrange(1, 40)]
        else:
            data = data[:at]
    open(os.path.join(folder, "in.bin"), "wb").write(bytes(data))
    try:
        use(_engine.read_profile(os.path.join(folder, "in.bin")))
        read += 1
    except (_engine.FormatError, ValueError, TypeError):
        pass
print("ok", read)
'''


def test_sampled_readers_under_asan_ubsan(tmp_path, sanitized):
    """3.15's sampled pstats and collapsed stacks, crafted and fuzzed,
    through the readers and every writer of the sanitized engine."""
    import test_sampling_files as tsf
    pkg, env = sanitized
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    tsf.write_sampled(seeds / "s.pstats")
    (seeds / "s.collapsed").write_text(tsf.STACKS_315)
    (seeds / "g.folded").write_text("main;foo;bar 10\nmain (a.py:1);{built-in method len} 4\n"
                                    "f;g;f;g 3\n")
    for name, data, _why in tsf.HOSTILE:
        if len(data) < 100_000:
            (seeds / f"hostile-{name}").write_bytes(data)
    r = subprocess.run([sys.executable, "-c", SAMPLED_FUZZ, str(seeds), "1500"],
                       capture_output=True, text=True, env=env, timeout=1200)
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr[-5000:]
    assert r.returncode == 0 and r.stdout.startswith("ok "), r.stderr[-5000:]
    assert int(r.stdout.split()[1]) > 100      # many were read, and written every way
