"""Files you can trust: hostile inputs never crash or exhaust the reader,
writes cannot be turned against the user, and the exit status tells the
truth.  Every crafted file is made here, by the test; none is stored."""
import json
import os
import pstats
import re
import stat
import struct
import subprocess
import sys
import textwrap

import pytest

from conftest import lprof_bytes, run_python

from pyrometer import _engine

LINES_MAGIC = b"pyrometer-lines\n"


def pyrometer(*args, **kw):
    kw.setdefault("timeout", 60)
    return run_python(["-m", "pyrometer", *args], **kw)


# ---- a marshal writer for crafted data ---------------------------------------

def m_int(n):
    return b"i" + struct.pack("<i", n)


def m_float(x):
    return b"g" + struct.pack("<d", x)


def m_str(s):
    b = s.encode("utf-8", "surrogatepass")
    return b"u" + struct.pack("<i", len(b)) + b


def m_bytes(b):
    return b"s" + struct.pack("<i", len(b)) + b


def m_tuple(*items):
    return b")" + bytes([len(items)]) + b"".join(items)


def m_list(*items):
    return b"[" + struct.pack("<i", len(items)) + b"".join(items)


def m_dict(*pairs, flag=False):
    return bytes([ord("{") | (0x80 if flag else 0)]) + b"".join(k + v for k, v in pairs) + b"0"


def m_ref(n):
    return b"r" + struct.pack("<I", n)


def m_code(consts, flag=True, filename="evil.py", name="f"):
    """A code object as 3.11+ marshal writes it: five ints, the bytecode,
    constants, names, local names and kinds, file, name, qualname, first
    line, line table, exception table."""
    return (bytes([ord("c") | (0x80 if flag else 0)]) + struct.pack("<5i", 0, 0, 0, 1, 0)
            + m_bytes(b"\x00\x00") + consts + m_tuple() + m_tuple() + m_bytes(b"")
            + m_str(filename) + m_str(name) + m_str(name) + struct.pack("<i", 1)
            + m_bytes(b"") + m_bytes(b""))


def nested_code(depth):
    """A code object holding one holding one... `depth` deep (a program
    nests functions a few deep; this would exhaust the C stack)."""
    code = m_code(m_tuple(), flag=False)
    for _ in range(depth):
        code = m_code(m_tuple(code), flag=False)
    return code


def profile_with_code(code):
    """A pstats dict whose one key names the profiled code with a code object,
    as the pure-Python profile module writes it."""
    entry = m_tuple(m_int(1), m_int(1), m_float(0.0), m_float(0.0), m_dict())
    return m_dict((m_tuple(m_str("profile"), m_int(0), code), entry))


def lines_file(functions, version=m_int(1)):
    return LINES_MAGIC + m_dict((m_str("version"), version), (m_str("unit"), m_float(1e-9)),
                                (m_str("meta"), m_dict()), (m_str("functions"), functions))


HOSTILE_PROFS = {
    # A code object whose constants refer to the code itself: marshal builds
    # the cycle, and hashing or printing the key never ends.
    "cyclic_code": profile_with_code(m_code(m_tuple(m_ref(0)))),
    # A set among a code object's constants: no compiler makes one.
    "set_in_code": profile_with_code(m_code(m_tuple(b"<" + struct.pack("<i", 1) + m_int(1)))),
    # Sizes that claim gigabytes in a file of a few dozen bytes.
    "huge_str": m_dict((m_tuple(b"u" + struct.pack("<i", 2**31 - 1), m_int(1), m_str("f")),
                        m_int(0))),
    "huge_tuple": m_dict((b"(" + struct.pack("<i", 2**31 - 1), m_int(0))),
    "huge_code_bytes": profile_with_code(
        b"\xe3" + struct.pack("<5i", 0, 0, 0, 1, 0) + b"s" + struct.pack("<i", 2**31 - 1)),
    "deep_code": profile_with_code(nested_code(300)),
}

HOSTILE_LINES = {
    # A dict whose key is a reference to itself, still being built.
    "cyclic_key": lines_file(m_list(m_dict((m_ref(0), m_int(1)), flag=True))),
    # Sizes from the file that CPython's marshal would allocate first.
    "huge_list": lines_file(b"[" + struct.pack("<i", 2**31 - 1)),
    "huge_str": lines_file(m_list(m_dict((m_str("name"),
                                          b"u" + struct.pack("<i", 2**31 - 1))))),
    "huge_bytes": lines_file(b"s" + struct.pack("<i", 2**31 - 1)),
    "huge_dict_of_lists": lines_file(b"[" + struct.pack("<i", 2**20) + b"[\xff\xff\xff\x7f" * 40),
    "set": lines_file(b"<" + struct.pack("<i", 1) + m_int(1)),
    "version_huge": lines_file(m_list(), version=b"l" + struct.pack("<i", 9) + b"\x01\x00" * 9),
}

READERS = {
    "load_stats": lambda p: _engine.load_stats(p),
    "load_profile": lambda p: _engine.load_profile(p),
    "read_lines": lambda p: _engine.read_lines(p),
    "read_lprof": lambda p: _engine.read_lprof(p),
}

# Every command that reads a profile, as a user would type it.
COMMANDS = [["report", "{f}"], ["convert", "{f}", "-f", "prof", "-o", "{o}.prof"],
            ["convert", "{f}", "-f", "callgrind", "-o", "{o}.cg"],
            ["convert", "{f}", "-f", "dot", "-o", "{o}.dot"],
            ["convert", "{f}", "-f", "svg", "-o", "{o}.svg"],
            ["convert", "{f}", "-f", "png", "-o", "{o}.png"],
            ["convert", "{f}", "-f", "collapsed", "-o", "{o}.txt"],
            ["convert", "{f}", "-f", "speedscope", "-o", "{o}.json"],
            ["convert", "{f}", "-f", "flamegraph", "-o", "{o}.svg"],
            ["convert", "{f}", "-f", "html", "-o", "{o}.html"],
            ["merge", "{f}", "-o", "{o}.merged"], ["diff", "{f}", "{f}"]]

MEMORY_CHECK = r'''
import sys, tracemalloc
from pyrometer import _engine
reader, path = sys.argv[1], sys.argv[2]
size = len(open(path, "rb").read())
tracemalloc.start()
try:
    getattr(_engine, reader)(path)
    outcome = "read"
except (_engine.FormatError, OSError) as exc:
    outcome = type(exc).__name__ + ": " + str(exc)
peak = tracemalloc.get_traced_memory()[1]
print(repr((outcome, size, peak)))
'''


def check_memory(tmp_path, reader, data):
    path = tmp_path / "hostile.bin"
    path.write_bytes(data)
    r = run_python(["-c", MEMORY_CHECK, reader, str(path)],
                   preexec_fn=limit_memory, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    outcome, size, peak = eval(r.stdout.strip().splitlines()[-1])
    # Nothing bigger than a small multiple of the file is ever allocated.
    assert peak <= 64 * size + (1 << 20), (outcome, size, peak)
    return outcome


def limit_memory():
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize("name", sorted(HOSTILE_PROFS))
def test_hostile_prof_files_are_refused_in_one_line(tmp_path, name):
    data = HOSTILE_PROFS[name]
    for reader in ("load_stats", "load_profile"):
        outcome = check_memory(tmp_path, reader, data)
        assert outcome.startswith("FormatError: pyrometer: ") and "\n" not in outcome, outcome
    path = tmp_path / f"{name}.prof"
    path.write_bytes(data)
    for cmd in COMMANDS:
        args = [a.format(f=path, o=tmp_path / "out") for a in cmd]
        r = pyrometer(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("pyrometer: error: ")
    assert not [p for p in os.listdir(tmp_path) if p.startswith("out")]


@pytest.mark.parametrize("name", sorted(HOSTILE_LINES))
def test_hostile_lines_files_are_refused_in_one_line(tmp_path, name):
    data = HOSTILE_LINES[name]
    outcome = check_memory(tmp_path, "read_lines", data)
    assert outcome.startswith("FormatError: pyrometer: ") and "\n" not in outcome, outcome
    path = tmp_path / f"{name}.lines"
    path.write_bytes(data)
    for cmd in (["report", "{f}"], ["convert", "{f}", "-f", "html", "-o", "{o}.html"]):
        args = [a.format(f=path, o=tmp_path / "out") for a in cmd]
        r = pyrometer(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr


def test_huge_format_version_is_told_as_it_is(tmp_path):
    path = tmp_path / "v.lines"
    path.write_bytes(HOSTILE_LINES["version_huge"])
    r = pyrometer("report", str(path))
    assert r.returncode == 2 and "-1" not in r.stderr.replace(str(path), ""), r.stderr
    assert "too big" in r.stderr
    path.write_bytes(lines_file(m_list(), version=m_int(7)))
    r = pyrometer("report", str(path))
    assert r.returncode == 2
    assert "format version 7, which this pyrometer does not read" in r.stderr


def test_profile_module_code_objects_are_named_not_built(tmp_path):
    path = tmp_path / "pm.prof"
    path.write_bytes(profile_with_code(m_code(m_tuple(m_int(1), m_str("x")), filename="a.py",
                                              name="g")))
    stats = _engine.load_stats(str(path))
    assert list(stats) == [("profile", 0, '<code object g, file "a.py", line 1>')]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "/dev/urandom", "folder"])
def test_inputs_that_are_not_regular_files(tmp_path, special):
    if special == "fifo":
        path = tmp_path / "pipe.prof"
        os.mkfifo(path)
    elif special == "folder":
        path = tmp_path / "dir.prof"
        path.mkdir()
    else:
        path = special
        if not os.path.exists(path):
            pytest.skip(f"no {path}")
    for cmd in COMMANDS + [["report", "{f}", "--unit", "1e-3"]]:
        args = [a.format(f=path, o=tmp_path / "out") for a in cmd]
        r = pyrometer(*args, timeout=20)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr


# ---- control characters never reach the terminal ---------------------------

EVIL_NAME = "\x1b]0;owned\x07f\x1b[2J\x9b31m"
EVIL_FILE = "\x1b[31mred\rhidden.py"


def test_text_reports_escape_control_characters(tmp_path):
    stats = {(EVIL_FILE, 1, EVIL_NAME): (2, 2, 0.5, 1.0, {}),
             ("ok.py", 3, "caller"): (1, 1, 0.5, 1.5, {})}
    stats[(EVIL_FILE, 1, EVIL_NAME)] = (2, 2, 0.5, 1.0, {("ok.py", 3, "caller"): (2, 2, 0.5, 1.0)})
    a, b = tmp_path / "a.prof", tmp_path / "b.prof"
    _engine.dump_stats(str(a), stats)
    _engine.dump_stats(str(b), {k: (v[0] * 2,) + v[1:] for k, v in stats.items()})
    outputs = [pyrometer("report", str(a), "--callers", "--callees"),
               pyrometer("diff", str(a), str(b))]
    functions = [{"file": EVIL_FILE, "line": 1, "name": EVIL_NAME, "timings": [(2, 3, 1000)],
                  "source": ["def f():", "    x = '\x1b]2;title\x07'\tcolumn", "\x1b[1A"]}]
    lines = tmp_path / "l.lines"
    _engine.write_lines(str(lines), {"unit": 1e-9, "meta": {}, "functions": functions})
    outputs.append(pyrometer("report", str(lines)))
    for r in outputs:
        assert r.returncode == 0, r.stderr
        for c in "\x1b\x07\r\x9b":
            assert c not in r.stdout, (repr(c), r.stdout)
        assert "\\x1b" in r.stdout
    assert "\tcolumn" in outputs[-1].stdout          # tabs in source lines stay


# ---- writes that cannot be turned against the user -------------------------

PROGRAM = "def f():\n    return 1\nf()\nprint('ran')\n"


def test_replaced_file_keeps_its_mode(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text(PROGRAM)
    out = tmp_path / "secret.prof"
    out.write_bytes(b"old")
    out.chmod(0o600)
    r = pyrometer("run", "-o", str(out), str(prog))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert pstats.Stats(str(out)).total_calls > 0


def test_links_planted_at_the_output_or_beside_it_are_not_followed(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text(PROGRAM)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out.prof"
    # Links at every name the old, predictable temporary files could have
    # had, and a hard link too.
    for pid in range(os.getpid(), os.getpid() + 300):
        os.symlink(victim, f"{out}.{pid}.pyrometer-tmp")
    os.link(victim, tmp_path / "hard.prof.tmp")
    r = pyrometer("run", "-o", str(out), str(prog))
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious"
    # -o itself a link to a regular file: the link is replaced, its target
    # left alone.
    link = tmp_path / "link.prof"
    link.symlink_to(victim)
    r = pyrometer("run", "-o", str(link), str(prog))
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and pstats.Stats(str(link)).total_calls > 0
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".pyrometer-tmp")
                and not os.path.islink(tmp_path / p)]


def make_device(path, minor):
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")


def test_devices_at_the_output_are_written_not_replaced(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text(PROGRAM)
    null = tmp_path / "null"
    make_device(null, 3)          # a copy of /dev/null
    r = pyrometer("run", "-o", str(null), str(prog))
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(null.lstat().st_mode)
    full = tmp_path / "full"
    make_device(full, 7)          # a copy of /dev/full
    r = pyrometer("run", "-o", str(full), str(prog))
    assert r.returncode == 74, r.stderr
    assert "the profile could not be saved to" in r.stderr and "No space left" in r.stderr
    assert stat.S_ISCHR(full.lstat().st_mode)
    # /dev/stdout is a link to a pipe here: written to, not replaced.
    r = pyrometer("run", "-o", "/dev/stdout", str(prog), text=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"ran\n") and r.stdout[4] & 0x7f == ord("{")


def test_an_output_that_is_an_input_is_refused(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text(PROGRAM)
    r = pyrometer("run", "-o", str(prog), str(prog))
    assert r.returncode == 2 and "is the script itself" in r.stderr
    assert prog.read_text() == PROGRAM
    prof = tmp_path / "x.prof"
    assert pyrometer("run", "-o", str(prof), str(prog)).returncode == 0
    before = prof.read_bytes()
    r = pyrometer("convert", str(prof), "-f", "html", "-o", str(prof))
    assert r.returncode == 2 and "is the input itself" in r.stderr
    other = tmp_path / "y.prof"
    other.write_bytes(before)
    r = pyrometer("merge", str(prof), str(other), "-o", str(other))
    assert r.returncode == 2 and "is one of the inputs" in r.stderr
    assert prof.read_bytes() == before and other.read_bytes() == before


def test_exit_status_says_when_the_profile_is_lost(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text(PROGRAM)
    folder = tmp_path / "d.prof"
    folder.mkdir()
    r = pyrometer("run", "-o", str(folder), str(prog))
    assert r.returncode == 2 and "it is a directory" in r.stderr
    assert r.stdout == ""                  # refused before the program ran

    def small_files():
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))

    out = tmp_path / "big.prof"
    r = pyrometer("run", "-o", str(out), str(prog), preexec_fn=small_files)
    assert r.stdout == "ran\n"
    assert r.returncode == 74, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(
        f"pyrometer: error: the profile could not be saved to {out}: ")
    # A program that failed keeps its own status.
    failing = tmp_path / "fail.py"
    failing.write_text("import sys\nsys.exit(3)\n")
    r = pyrometer("run", "-o", str(out), str(failing), preexec_fn=small_files)
    assert r.returncode == 3, r.stderr


# ---- fuzzing every reader -----------------------------------------------------

FUZZ = r'''
import os, random, sys, tracemalloc
from pyrometer import _engine
seeds, runs, folder = [s for s in sys.argv[1].split(",")], int(sys.argv[2]), sys.argv[3]
bases = {name: open(os.path.join(folder, name), "rb").read() for name in seeds}
readers = [_engine.load_stats, _engine.load_profile, _engine.read_lines, _engine.read_lprof]
rng = random.Random(1234)
path = os.path.join(folder, "fuzzed.bin")
bad = []
worst = 0.0
tracemalloc.start()
for i in range(runs):
    name = rng.choice(sorted(bases))
    data = bytearray(bases[name])
    for _ in range(rng.choice([1, 1, 2, 3, 8])):
        what = rng.random()
        if not data:
            data = bytearray(bases[name][:1])
        at = rng.randrange(len(data))
        if what < 0.35:
            data[at] = rng.randrange(256)
        elif what < 0.5:
            data[at:at + 4] = rng.choice([b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80",
                                          b"\xff\xff\xff\xff", b"\x00\x00\x01\x00"])
        elif what < 0.65:
            del data[at:at + rng.randrange(1, 16)]
        elif what < 0.8:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        elif what < 0.9:
            data = data[:at]
        else:
            data[at] = rng.choice(b"<>[{()rcsuazg0NTFil")
    with open(path, "wb") as f:
        f.write(data)
    for read in readers:
        tracemalloc.reset_peak()
        try:
            read(path)
        except (_engine.FormatError, OSError, MemoryError):
            pass
        except BaseException as exc:
            bad.append("%s on %s #%d: %r" % (read.__name__, name, i, exc))
        peak = tracemalloc.get_traced_memory()[1]
        worst = max(worst, peak / (len(data) + 1))
        if peak > 64 * len(data) + (1 << 20):
            bad.append("%s on %s #%d: %d bytes for a file of %d" % (read.__name__, name, i,
                                                                   peak, len(data)))
print(repr((bad[:20], len(bad), worst)))
'''


def fuzz_bases(tmp_path):
    prog = tmp_path / "p.py"
    prog.write_text(textwrap.dedent('''
        import json
        def leaf(i): return i * 2
        def walk(n): return [leaf(i) for i in range(n)] if n < 3 else walk(n - 1)
        for _ in range(3):
            json.dumps(walk(5))
    '''))
    r = pyrometer("run", "-o", str(tmp_path / "ours.prof"), str(prog))
    assert r.returncode == 0, r.stderr
    r = run_python(["-m", "cProfile", "-o", str(tmp_path / "cprofile.prof"), str(prog)])
    assert r.returncode == 0, r.stderr
    r = pyrometer("run", "--lines-of", "walk", "-o", str(tmp_path / "ours.lines"), str(prog))
    assert r.returncode == 0, r.stderr
    # line_profiler's pickles, framed (protocol 4) and not (2)
    timings = {(str(prog), 3, "walk"): [(3, 4, 1200), (4, 2, 900)],
               (str(prog), 2, "leaf"): [(2, 9, 30)]}
    (tmp_path / "kernprof.lprof").write_bytes(lprof_bytes(timings, 1e-9, 4))
    (tmp_path / "old.lprof").write_bytes(lprof_bytes(timings, 1e-6, 2, "line_profiler"))
    return ["ours.prof", "cprofile.prof", "ours.lines", "kernprof.lprof", "old.lprof"]


def run_fuzz(tmp_path, runs):
    seeds = fuzz_bases(tmp_path)
    r = run_python(["-c", FUZZ, ",".join(seeds), str(runs), str(tmp_path)],
                   preexec_fn=limit_memory, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]       # a crash fails here
    bad, nbad, worst = eval(r.stdout.strip().splitlines()[-1])
    assert nbad == 0, bad
    return worst


def test_fuzzed_files_never_crash_the_readers(tmp_path):
    run_fuzz(tmp_path, 300)


@pytest.mark.slow
def test_fuzzed_files_never_crash_the_readers_12000_runs(tmp_path):
    run_fuzz(tmp_path, 12000)
