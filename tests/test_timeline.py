"""Memory over time: `pyrometer run --timeline`, pyrometer.Timeline, the
saved .mem file, its plot (SVG, HTML) and its exports (mprof's .dat,
massif's massif.out).

The programs run in fresh processes.  Their memory rises and falls in known
steps (50 MiB allocated and freed, then 20 MiB inside an @profile function),
written byte by byte so that the pages are resident and the RSS sees them.
"""
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from conftest import run_python
from pyrometer import _engine

MiB = 1 << 20
LINUX = sys.platform.startswith("linux")
needs_proc = pytest.mark.skipif(not LINUX, reason="the RSS now is read from /proc")
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)

STEPS = """
import time

def big():
    data = b"\\x01" * (50 << 20)
    time.sleep(0.3)
    return len(data)

@profile
def middle():
    data = b"\\x02" * (20 << 20)
    time.sleep(0.3)
    return len(data)

big()
time.sleep(0.2)
middle()
time.sleep(0.2)
print("done")
"""


def pyrometer(*args, **kw):
    return run_python(["-m", "pyrometer", *map(str, args)], **kw)


def write(tmp_path, source, name="prog.py"):
    prog = tmp_path / name
    prog.write_text(textwrap.dedent(source))
    return prog


def one_error_line(r):
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, (r.returncode, r.stderr)
    assert lines[0].startswith("pyrometer: error:"), r.stderr
    return lines[0]


@pytest.fixture(scope="module")
def steps(tmp_path_factory):
    """(folder, timeline file, its data) of STEPS run with --timeline."""
    folder = tmp_path_factory.mktemp("steps")
    prog = write(folder, STEPS)
    r = pyrometer("run", "--timeline", "-o", folder / "steps.mem", prog, cwd=folder)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "done\n"
    assert "timeline written to" in r.stderr and "pyrometer plot" in r.stderr
    return folder, folder / "steps.mem", _engine.read_timeline(str(folder / "steps.mem"))


@pytest.fixture(scope="module")
def steps_memory(tmp_path_factory):
    """The same with --memory: the traced heap and its call paths too."""
    folder = tmp_path_factory.mktemp("steps_memory")
    prog = write(folder, STEPS)
    r = pyrometer("run", "--timeline", "--memory", "--tree", "-o", folder / "heap.mem", prog,
                  cwd=folder)
    assert r.returncode == 0, r.stderr
    return folder, folder / "heap.mem", _engine.read_timeline(str(folder / "heap.mem")), r


# ---- what the samples see ------------------------------------------------------

@needs_proc
def test_samples_see_the_steps_and_the_bracket_encloses_the_rise(steps):
    _folder, _path, data = steps
    samples = data["samples"]
    assert data["interval"] == pytest.approx(0.01) and len(samples) > 60
    times = [s[0] for s in samples]
    assert times == sorted(times) and times[0] == pytest.approx(0.0, abs=0.005)
    base = samples[0][1]
    [call] = data["calls"]
    assert call["name"] == "__main__.middle" and call["depth"] == 1 and not call["unfinished"]
    t0, t1 = call["start"][0], call["end"][0]
    assert 0.28 < t1 - t0 < 1.5
    # 50 MiB up, then back down, before the bracket
    before = [rss for t, rss, _heap in samples if t < t0]
    assert max(before) >= base + 45 * MiB
    assert min(rss for t, rss, _heap in samples if t0 - 0.15 < t < t0) < base + 15 * MiB
    # 20 MiB up inside the bracket, and only there after the first step
    high = [t for t, rss, _heap in samples if t > t0 - 0.15 and rss >= base + 17 * MiB]
    assert high and all(t0 <= t <= t1 for t in high)
    # the peak: the first step's, with its time
    peak_t, peak_rss, _ = data["peak_rss"]
    assert peak_rss == max(rss for _t, rss, _h in samples) or peak_rss >= max(before)
    assert peak_rss >= base + 45 * MiB and peak_t < t0
    assert data["peak_heap"] is None and all(h is None for _t, _r, h in samples)
    assert data["tree"] == [] and data["tree_kind"] is None
    assert data["cmd"].startswith("pyrometer run --timeline -o ")


@needs_proc
def test_memory_adds_the_traced_heap_and_its_call_paths_at_the_peak(steps_memory):
    _folder, _path, data, r = steps_memory
    assert r.stdout.startswith("done\n")
    assert "middle  prog.py:" in r.stdout          # the bracketed function is profiled
    heap = [h for _t, _rss, h in data["samples"] if h is not None]
    assert heap and max(heap) >= 50 * MiB
    _t, _rss, heap_peak = data["peak_heap"]
    assert 50 * MiB <= heap_peak < 51 * MiB
    [call] = data["calls"]
    inside = [h for t, _r, h in data["samples"] if call["start"][0] <= t <= call["end"][0]
              and h is not None]
    assert max(inside) >= 20 * MiB and max(inside) < 21 * MiB
    # the bytes each path held at the heap's peak: big's 50 MiB
    assert data["tree_kind"] == "peak"
    held = {name: b for _parent, name, b in data["tree"]}
    big = [b for name, b in held.items() if name.startswith("big ")]
    assert big and big[0] >= 50 * MiB - 4096
    assert not any(name.startswith("middle ") and b > MiB for name, b in held.items())


# ---- the exports ------------------------------------------------------------------

MEM_LINE = re.compile(r"^MEM (\d+\.\d{6}) (\d+\.\d{4})$")
FUNC_LINE = re.compile(r"^FUNC (\S+) (\d+\.\d{4}) (\d+\.\d{4}) (\d+\.\d{4}) (\d+\.\d{4}) (\d+)$")


def read_mprof(path):
    """memory_profiler's .dat as mprof's reader takes it: fields split on
    single spaces, no blank line."""
    mem, funcs, cmd = [], [], None
    for line in path.read_text().splitlines():
        assert line, "mprof refuses a blank line"
        field, value = line.split(" ", 1)
        if field == "CMDLINE":
            cmd = value
        elif field == "MEM":
            m = MEM_LINE.match(line)
            assert m, line
            mem.append((float(m.group(1)), float(m.group(2))))
        elif field == "FUNC":
            m = FUNC_LINE.match(line)
            assert m, line
            funcs.append((m.group(1), *map(float, m.groups()[1:5]), int(m.group(6))))
        else:
            raise AssertionError(line)
    return cmd, mem, funcs


@needs_proc
def test_mprof_dat(steps, tmp_path):
    _folder, path, data = steps
    out = tmp_path / "steps.dat"
    r = pyrometer("convert", path, "-o", out)
    assert r.returncode == 0, r.stderr
    cmd, mem, funcs = read_mprof(out)
    assert cmd == data["cmd"]
    assert len(mem) == len(data["samples"])
    stamps = [t for _m, t in mem]
    assert stamps == sorted(stamps)
    assert stamps[0] == pytest.approx(data["start"], abs=1e-3)
    assert max(m for m, _t in mem) == pytest.approx(max(s[1] for s in data["samples"]) / MiB,
                                                     abs=1e-5)
    [(name, m0, t0, m1, t1, depth)] = funcs
    [call] = data["calls"]
    assert name == "__main__.middle" and depth == 1
    assert t0 == pytest.approx(data["start"] + call["start"][0], abs=2e-4)
    assert t1 == pytest.approx(data["start"] + call["end"][0], abs=2e-4)


@pytest.mark.skipif(shutil.which("mprof") is None, reason="memory_profiler's mprof not installed")
def test_mprof_plot_reads_our_dat(steps, tmp_path):
    _folder, path, _data = steps
    out = tmp_path / "steps.dat"
    assert pyrometer("convert", path, "-o", out).returncode == 0
    r = subprocess.run(["mprof", "plot", "-o", str(tmp_path / "x.png"), str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "x.png").stat().st_size > 10_000


def ms_print(path):
    r = subprocess.run(["ms_print", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.skipif(shutil.which("ms_print") is None, reason="valgrind's ms_print not installed")
def test_ms_print_reads_our_massif_files(steps, steps_memory, tmp_path):
    _folder, path, data = steps
    out = tmp_path / "massif.out.steps"
    assert pyrometer("convert", path, "-o", out).returncode == 0
    text = ms_print(out)
    assert "Command:            pyrometer run --timeline" in text
    snapshots = int(re.search(r"Number of snapshots: (\d+)", text).group(1))
    assert 50 <= snapshots <= 100                  # massif's own bound
    assert "Detailed snapshots: []" in text        # no heap traced: no call paths
    # with --memory: the peak's call paths, massif's inverted tree
    _folder, path, data, _r = steps_memory
    out = tmp_path / "massif.out.heap"
    assert pyrometer("convert", path, "-o", out).returncode == 0
    body = out.read_text()
    assert body.startswith("desc: ") and "\ntime_unit: ms\n" in body
    assert body.count("heap_tree=peak") == 1
    text = ms_print(out)
    assert re.search(r"Detailed snapshots: \[\d+ \(peak\)\]", text)
    line = next(ln for ln in text.splitlines() if "big (prog.py:" in ln)
    assert int(re.search(r"\(([\d,]+)B\)", line).group(1).replace(",", "")) >= 50 * MiB - 4096
    assert re.search(r"<module> \(prog\.py:\d+\)", text)


# ---- the plot -----------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


@needs_proc
def test_plot_svg_is_xml_with_brackets_peak_and_ticks(steps, tmp_path):
    _folder, path, data = steps
    out = tmp_path / "steps.svg"
    r = pyrometer("plot", path, "-o", out)
    assert r.returncode == 0, r.stderr
    root = ET.parse(out).getroot()
    assert root.tag == SVG + "svg"
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    assert "memory used (MiB)" in texts and "time (s)" in texts
    peak = next(t for t in texts if t.startswith("peak "))
    assert re.match(r"peak \d+\.\d MiB at \d+ ms$", peak), peak
    assert f"{data['peak_rss'][1] / MiB:.1f} MiB" in peak
    calls = [g for g in root.iter(SVG + "g") if g.get("class") == "call"]
    assert len(calls) == 1 and len(calls[0].findall(SVG + "path")) == 2     # [ and ]
    assert "__main__.middle" in "".join(calls[0].find(SVG + "title").itertext())
    ticks = [float(t) for t in texts if re.fullmatch(r"\d+(\.\d+)?", t)]
    assert 0.0 in ticks and max(ticks) >= 60            # MiB ticks reach above the peak
    # the default name: the timeline's with .svg
    r = pyrometer("plot", path)
    assert r.returncode == 0 and path.with_suffix(".svg").exists()


def png_is_drawn(path, size):
    import zlib
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    pixels = zlib.decompress(idat)
    channels = {2: 3, 6: 4}[colour_type]
    assert (w, h) == size and depth == 8 and len(pixels) == h * (1 + w * channels)
    return len(set(pixels[i:i + 3] for i in range(0, len(pixels), 3)))


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
@pytest.mark.parametrize("fmt", ["svg", "html"])
def test_plot_opens_in_a_browser(steps_memory, tmp_path, fmt):
    _folder, path, _data, _r = steps_memory
    out = tmp_path / f"heap.{fmt}"
    assert pyrometer("plot", path, "-o", out).returncode == 0
    if fmt == "html":
        text = out.read_text()
        assert text.startswith("<!DOCTYPE html>") and "<svg " in text and "middle" in text
        ET.fromstring(text[text.index("<svg "):text.index("</svg>") + 6])
    shot = tmp_path / "shot.png"
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
                        "--window-size=1000,700", f"--screenshot={shot}", out.as_uri()],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    assert png_is_drawn(shot, (1000, 700)) > 20        # lines, text, colours: not blank


# ---- finishing: sys.exit, Ctrl-C, SIGTERM ------------------------------------------

ENDINGS = """
import os, signal, sys, time
data = b"\\x01" * (30 << 20)
time.sleep(0.15)
print("ran", flush=True)
how = sys.argv[1]
if how == "exit":
    sys.exit(3)
if how == "term":
    os.kill(os.getpid(), signal.SIGTERM)
if how == "interrupt":
    raise KeyboardInterrupt
if how == "raise":
    raise ValueError("the program's own")
"""


@needs_proc
@pytest.mark.parametrize("how, status", [("exit", 3), ("term", -signal.SIGTERM),
                                         ("interrupt", -signal.SIGINT), ("raise", 1),
                                         ("end", 0)])
def test_the_timeline_is_saved_however_the_program_ends(tmp_path, how, status):
    prog = write(tmp_path, ENDINGS)
    out = tmp_path / "end.mem"
    r = pyrometer("run", "--timeline", "-o", out, prog, how)
    assert r.returncode == status, r.stderr
    assert r.stdout == "ran\n"
    data = _engine.read_timeline(str(out))
    assert data["peak_rss"][1] >= data["samples"][0][1] + 25 * MiB
    assert not [p for p in os.listdir(tmp_path) if "pyrometer-tmp" in p]
    if how == "raise":
        assert "ValueError: the program's own" in r.stderr


def test_the_program_is_left_alone(tmp_path):
    prog = write(tmp_path, """
        import builtins, sys
        print("profile" in dir(builtins), sys.argv[1:])
        try:
            profile
        except NameError:
            print("no profile")
        sys.exit(5)
    """)
    plain = run_python([str(prog), "a", "-b"])
    ours = pyrometer("run", "--timeline", "-o", tmp_path / "t.mem", prog, "a", "-b")
    assert (ours.returncode, ours.stdout) == (plain.returncode, plain.stdout) == (5, plain.stdout)
    assert plain.stdout == "False ['a', '-b']\nno profile\n"


def test_beside_tracemalloc_threads_and_many_calls(tmp_path):
    # tracemalloc takes the GIL in Python's RAW allocator: the sampler, which
    # holds its lock while its buffers grow, uses the C library's instead
    prog = write(tmp_path, """
        import threading, tracemalloc
        tracemalloc.start()

        @profile
        def step(i):
            return [i] * 1000

        def worker():
            for i in range(3000):
                step(i)

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(tracemalloc.get_traced_memory()[1] > 0)
    """)
    r = pyrometer("run", "--timeline", "--timeline-interval", "0.001", "-o", tmp_path / "t.mem",
                  prog, timeout=120)
    assert r.returncode == 0 and r.stdout == "True\n", r.stderr
    data = _engine.read_timeline(str(tmp_path / "t.mem"))
    assert data["dropped_calls"] > 0 and 4096 <= len(data["calls"]) <= 8192


@needs_proc
def test_a_forked_child_writes_no_timeline(tmp_path):
    prog = write(tmp_path, """
        import os, time
        pid = os.fork()
        if pid == 0:
            time.sleep(0.05)
            os._exit(7)
        _, status = os.waitpid(pid, 0)
        print(os.WEXITSTATUS(status))
    """)
    r = pyrometer("run", "--timeline", "-o", tmp_path / "f.mem", prog)
    assert r.returncode == 0 and r.stdout == "7\n", r.stderr
    assert sorted(os.listdir(tmp_path)) == ["f.mem", "prog.py"]
    # the sampler stops while Python forks (os.register_at_fork): 3.12 and
    # 3.14+ see no thread to warn about.  3.13 counts the threads before
    # the at-fork hooks run, so there the sampler is seen and the program
    # gets the interpreter's DeprecationWarning (a known gap).
    if sys.version_info[:2] != (3, 13):
        assert "multi-threaded" not in r.stderr and "Warning" not in r.stderr, r.stderr


@needs_proc
def test_beside_a_saved_profile_and_with_lines(tmp_path):
    prog = write(tmp_path, STEPS)
    r = pyrometer("run", "--timeline", "--memory", "-o", tmp_path / "p.prof", prog)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "p.prof").exists() and (tmp_path / "p.mem").exists()
    r = pyrometer("run", "--timeline", "--lines", "-o", tmp_path / "l.mem", prog)
    assert r.returncode == 0, r.stderr
    assert "Line #" in r.stdout and "def middle():" in r.stdout       # the line report
    [call] = _engine.read_timeline(str(tmp_path / "l.mem"))["calls"]
    assert call["name"] == "__main__.middle"
    # straight to a plot or mprof's file, without a .mem
    for name in ("direct.svg", "direct.dat", "massif.out.direct"):
        r = pyrometer("run", "--timeline", "--timeline-interval", "0.02", "-o",
                      tmp_path / name, prog)
        assert r.returncode == 0, r.stderr
    assert ET.parse(tmp_path / "direct.svg").getroot().tag == SVG + "svg"
    assert read_mprof(tmp_path / "direct.dat")[2][0][0] == "__main__.middle"
    assert (tmp_path / "massif.out.direct").read_text().startswith("desc:")


# ---- the Python API --------------------------------------------------------------

def test_timeline_api_brackets_functions_methods_generators_and_coroutines(tmp_path):
    import asyncio
    import pyrometer

    tl = pyrometer.Timeline(interval=0.005)

    @tl.bracket
    def plain(x, *, y=1):
        """plain's doc"""
        return x + y

    @tl.bracket(name="custom")
    def fails():
        raise KeyError("kept")

    class Thing:
        @tl.bracket
        def method(self, k):
            return (self, k)

    @tl.bracket
    def gen(n):
        yield from range(n)
        return "end"

    @tl.bracket
    async def coro():
        await asyncio.sleep(0)
        return 9

    with tl:
        assert plain(1, y=2) == 3
        with pytest.raises(KeyError, match="kept"):
            fails()
        thing = Thing()
        assert thing.method(4) == (thing, 4)
        assert list(gen(3)) == [0, 1, 2]
        assert asyncio.run(coro()) == 9
    assert plain.__name__ == "plain" and plain.__doc__ == "plain's doc"
    assert plain.__wrapped__.__name__ == "plain"
    names = [c["name"] for c in tl.data()["calls"]]
    here = __name__
    assert sorted(names) == sorted([f"{here}.{n}" for n in (
        "test_timeline_api_brackets_functions_methods_generators_and_coroutines.<locals>.plain",
        "test_timeline_api_brackets_functions_methods_generators_and_coroutines.<locals>.Thing."
        "method",
        "test_timeline_api_brackets_functions_methods_generators_and_coroutines.<locals>.gen",
        "test_timeline_api_brackets_functions_methods_generators_and_coroutines.<locals>.coro")]
        + ["custom"])
    assert plain(5) == 6                        # stopped: called, not bracketed
    assert len(tl.data()["calls"]) == 5
    tl.write(tmp_path / "api.svg")
    tl.dump(tmp_path / "api.mem")
    assert _engine.read_timeline(str(tmp_path / "api.mem"))["calls"] == tl.data()["calls"]


def test_a_long_run_halves_its_samples_and_keeps_the_peak():
    import time
    import pyrometer
    tl = pyrometer.Timeline(interval=0.001, max_samples=16)
    with tl:
        time.sleep(0.3)
    data = tl.data()
    assert 8 <= len(data["samples"]) <= 17
    assert data["halvings"] >= 3 and tl.interval == pytest.approx(0.001 * 2 ** data["halvings"])
    gaps = [b[0] - a[0] for a, b in zip(data["samples"], data["samples"][1:-1])]
    assert min(gaps) >= tl.interval * 0.5
    if LINUX:
        assert data["peak_rss"][1] >= max(s[1] for s in data["samples"])


def test_one_timeline_at_a_time_and_bad_settings():
    import pyrometer
    with pytest.raises(ValueError, match="interval"):
        pyrometer.Timeline(interval=0)
    with pytest.raises(ValueError, match="16"):
        pyrometer.Timeline(max_samples=4)
    a, b = pyrometer.Timeline(), pyrometer.Timeline()
    with a:
        with pytest.raises(ValueError, match="another timeline is running"):
            b.start()
        a.start()                                # running already: nothing happens
    b.start()
    b.stop()
    b.stop()


# ---- the command line's bad input ------------------------------------------------

def test_bad_options_give_one_line_and_exit_2(tmp_path):
    prog = write(tmp_path, "print('never')\n")
    for args in (["--timeline", "--sort", "tottime"], ["--timeline", "--tree"],
                 ["--timeline-interval", "0.1"], ["--timeline", "--timeline-interval", "0"],
                 ["--timeline", "--timeline-interval", "x"], ["--timeline", "-o", "-"],
                 ["--timeline", "--memory", "--follow-fork", "-o", tmp_path / "x.mem"],
                 ["--timeline", "-o", tmp_path / "no" / "dir.mem"]):
        r = pyrometer("run", *args, prog)
        one_error_line(r)
        assert r.stdout == ""
    r = pyrometer("plot", prog)
    assert "is not a memory timeline" in one_error_line(r)
    r = pyrometer("plot", tmp_path / "missing.mem")
    assert "cannot read" in one_error_line(r)


def test_profile_commands_name_a_timeline_for_what_it_is(steps, tmp_path):
    _folder, path, _data = steps
    for args in (["report", path], ["diff", path, path], ["merge", path, "-o", tmp_path / "m"]):
        line = one_error_line(pyrometer(*args))
        assert "is a memory timeline" in line and "pyrometer plot" in line
    line = one_error_line(pyrometer("convert", path, "-o", tmp_path / "x.json"))
    assert "converts to mprof (.dat), massif" in line
    prof = tmp_path / "p.prof"
    assert pyrometer("run", "-o", prof, "-c", "pass").returncode == 0
    line = one_error_line(pyrometer("convert", prof, "-o", tmp_path / "x.dat"))
    assert "mprof format holds memory over time" in line


# ---- hostile files --------------------------------------------------------------------

MAGIC = _engine.TIMELINE_MAGIC


def chunk(tag, payload):
    return tag + struct.pack("<I", len(payload)) + payload


def head(version=1, halvings=0, start=1.7e9, interval=10_000_000, base=10_000_000, dropped=0,
         kind=0, reserved=0):
    return chunk(b"HEAD", struct.pack("<IIdqqQII", version, halvings, start, interval, base,
                                      dropped, kind, reserved))


def point(t, rss, heap=2 ** 64 - 1):
    return struct.pack("<qQQ", t, rss, heap)


def names(*items):
    return chunk(b"NAME", struct.pack("<I", len(items))
                 + b"".join(struct.pack("<I", len(n)) + n for n in items))


def call(name=0, depth=1, flags=0, t0=0, t1=10, rss=1000):
    return chunk(b"CALL", struct.pack("<IIII", name, depth, flags, 0) + point(t0, rss)
                 + point(t1, rss))


END = chunk(b"END ", b"")
GOOD = MAGIC + head() + names(b"f") + chunk(b"SAMP", point(0, 1000) + point(10, 2000)) + END

HOSTILE = {
    "empty": (b"", "does not start as one"),
    "magic only": (MAGIC, "ends early"),
    "text": (b"MEM 12.0 1700000000.0\n", "does not start as one"),
    "no end": (MAGIC + head(), "ends early"),
    "cut in a chunk": (GOOD[:-20], "runs past the end"),
    "after the end": (GOOD + b"x", "goes on after"),
    "no head first": (MAGIC + names(b"f") + head() + END, "first chunk is not HEAD"),
    "head twice": (MAGIC + head() + head() + END, "comes twice"),
    "future version": (MAGIC + head(version=2) + END, "format version"),
    "head size": (MAGIC + chunk(b"HEAD", b"\0" * 12) + END, "wrong size"),
    "zero interval": (MAGIC + head(interval=0, base=0) + END, "interval"),
    "nan start": (MAGIC + head(start=float("nan")) + END, "start time"),
    "huge length": (MAGIC + head() + b"SAMP" + struct.pack("<I", 2 ** 32 - 1) + END,
                    "runs past the end"),
    "samples not whole": (MAGIC + head() + chunk(b"SAMP", b"\0" * 25) + END, "whole number"),
    "samples out of order": (MAGIC + head() + chunk(b"SAMP", point(10, 1) + point(5, 1)) + END,
                             "out of time order"),
    "negative time": (MAGIC + head() + chunk(b"SAMP", point(-5, 1)) + END, "out of range"),
    "absurd bytes": (MAGIC + head() + chunk(b"SAMP", point(0, 2 ** 63)) + END, "out of range"),
    "names counted wrong": (MAGIC + head() + chunk(b"NAME", struct.pack("<I", 2 ** 31)) + END,
                            "counts more names"),
    "name too long": (MAGIC + head() + chunk(b"NAME", struct.pack("<II", 1, 2 ** 20)) + END,
                      "too long"),
    "name not utf-8": (MAGIC + head() + names(b"\xff\xfe") + END, "not UTF-8"),
    "name with nul": (MAGIC + head() + names(b"a\0b") + END, "NUL"),
    "call names nothing": (MAGIC + head() + call(name=3) + END, "names no function"),
    "call backwards": (MAGIC + head() + names(b"f") + call(t0=10, t1=5) + END,
                       "times or values"),
    "call depth 0": (MAGIC + head() + names(b"f") + call(depth=0) + END, "nested out of range"),
    "tree kind unknown": (MAGIC + head(kind=7) + END, "unknown values"),
    "tree without kind": (MAGIC + head() + names(b"f")
                          + chunk(b"TREE", struct.pack("<iIQ", -1, 0, 5)) + END,
                          "unknown kind"),
    "tree parent later": (MAGIC + head(kind=1) + names(b"f")
                          + chunk(b"TREE", struct.pack("<iIQ", 1, 0, 5)) + END,
                          "parent does not come before"),
    "cmd not text": (MAGIC + head() + chunk(b"CMD ", b"\xc3") + END, "not text"),
}


def test_hostile_files_give_one_line_and_exit_2(tmp_path):
    out = tmp_path / "keep.svg"
    out.write_text("keep")
    for name, (data, why) in HOSTILE.items():
        bad = tmp_path / "bad.mem"
        bad.write_bytes(data)
        with pytest.raises(_engine.FormatError, match=re.escape(why)):
            _engine.read_timeline(str(bad))
    # through the commands: one line, exit 2, the output left alone
    for name in ("empty", "cut in a chunk", "name not utf-8", "huge length"):
        bad = tmp_path / f"{name.replace(' ', '_')}.mem"
        bad.write_bytes(HOSTILE[name][0])
        for args in (["plot", bad, "-o", out], ["convert", bad, "-o", tmp_path / "x.dat"],
                     ["convert", bad, "-o", tmp_path / "massif.out.x"]):
            line = one_error_line(pyrometer(*args))
            assert str(bad) in line or "not a memory timeline" in line, line
        assert out.read_text() == "keep" and not (tmp_path / "x.dat").exists()
    # unknown chunks of a later version are skipped
    (tmp_path / "later.mem").write_bytes(GOOD[:-len(END)] + chunk(b"NEWS", b"12345") + END)
    assert len(_engine.read_timeline(str(tmp_path / "later.mem"))["samples"]) == 2
    # not a regular file
    line = one_error_line(pyrometer("plot", tmp_path, "-o", out))
    assert "directory" in line.lower()


FUZZ = r'''
import os, random, sys
from pyrometer import _engine
path, runs = sys.argv[1], int(sys.argv[2])
base = open(path, "rb").read()
rng = random.Random(1234)
read = 0
for i in range(runs):
    data = bytearray(base)
    for _ in range(rng.choice([1, 2, 4, 8])):
        if not data:
            break
        at = rng.randrange(len(data))
        what = rng.random()
        if what < 0.5:
            data[at] = rng.randrange(256)
        elif what < 0.7:
            del data[at:at + rng.randrange(1, 30)]
        elif what < 0.85:
            data[at:at] = data[rng.randrange(len(data)):][:rng.randrange(1, 60)]
        else:
            data = data[:at]
    open(path + ".fuzz", "wb").write(bytes(data))
    for fmt, out in (("svg", ".svg"), ("html", ".html"), ("mprof", ".dat"),
                     ("massif", ".massif"), ("mem", ".mem2")):
        try:
            _engine.convert_timeline(path + ".fuzz", path + out, fmt)
            read += 1
        except _engine.FormatError:
            break
print("ok", read)
'''


def fuzz(path, runs, env=None):
    r = subprocess.run([sys.executable, "-c", FUZZ, str(path), str(runs)], capture_output=True,
                       text=True, env=env, timeout=1200)
    assert r.returncode == 0 and r.stdout.startswith("ok "), r.stderr[-5000:]
    return r


def test_fuzzed_timelines_never_crash(steps_memory, tmp_path):
    _folder, path, _data, _r = steps_memory
    seed = tmp_path / "seed.mem"
    shutil.copy(path, seed)
    fuzz(seed, 300)
