"""The .prof reader and the report printer against marshal and pstats.

format_report(layout="pstats") must print exactly what the running
interpreter's pstats prints, so every comparison below builds the pstats text
from the same file (stream=io.StringIO) and hands format_report() the same
header lines.  The default layout (pyrometer's columns) shares the loading,
sorting and restrictions checked here; its numbers are checked in
test_report_columns.py.
"""
import gc
import io
import marshal
import os
import pstats
import random
import re
import subprocess
import sys
import textwrap

import pytest

from pyrometer import _engine

SORT_WORDS = ["calls", "ncalls", "cumulative", "cumtime", "file", "filename", "module",
              "pcalls", "line", "name", "nfl", "stdname", "time", "tottime"]
# unique prefixes pstats also accepts, and what pstats reads them as
PREFIXES = ["cu", "cumu", "cumt", "ca", "nc", "na", "nf", "f", "l", "m", "p", "s",
            "std", "ti", "to"]
SORTS = [(w,) for w in SORT_WORDS] + [(p,) for p in PREFIXES] + [
    ("time", "name"), ("calls", "cumulative", "stdname"), ("file", "line"),
    ("pcalls", "nfl"), ("line", "name", "file"), ()]
LIMITS = [None, 5, 1, 0, 10**6, -3, 0.5, 0.1, 0.0, 0.999, 1.0, 1.5, "fib", "[", "zz_nothing",
          ("fib|main", 2), (0.5, 3)]
MODES = {"stats": "print_stats", "callers": "print_callers", "callees": "print_callees"}


# ---- helpers ---------------------------------------------------------------------

def write_prof(path, stats, version=marshal.version):
    with open(path, "wb") as f:
        marshal.dump(stats, f, version)
    return str(path)


def pstats_text(path, sort=("cumulative",), limit=None, mode="stats"):
    """pstats' output for a file, and the header lines it printed."""
    out = io.StringIO()
    st = pstats.Stats(path, stream=out)
    st.sort_stats(*sort)
    amount = () if limit is None else (limit if isinstance(limit, tuple) else (limit,))
    getattr(st, MODES[mode])(*amount)
    return out.getvalue(), st.files


def ours_text(stats, files, sort=("cumulative",), limit=None, mode="stats"):
    return _engine.format_report(stats, sort=sort, limit=limit, files=files, mode=mode,
                                 layout="pstats")


ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def assert_same(path, stats, sort, limit, mode, addresses=False):
    """format_report() == pstats; `addresses`: the data holds objects printed
    with their address (the profile module's code object), which differ
    between pstats' copy and ours."""
    try:
        expected, files = pstats_text(path, sort, limit, mode)
    except TypeError:
        # pstats compares a code object with a str (profile module data
        # sorted by name): no text to match, ours just must not fail
        assert addresses
        ours_text(stats, [], sort, limit, mode)
        return
    got = ours_text(stats, files, sort, limit, mode)
    if addresses:
        # The reader names the code object with its repr less the address:
        # column widths computed from its length differ too.
        expected, got = ADDRESS.sub("", expected), ADDRESS.sub("", got)
        expected, got = re.sub(r" {2,}", " ", expected), re.sub(r" {2,}", " ", got)
    if got != expected:
        import difflib
        diff = "".join(difflib.unified_diff(expected.splitlines(True), got.splitlines(True),
                                            "pstats", "format_report", n=1))
        pytest.fail(f"sort={sort!r} limit={limit!r} mode={mode}\n{diff[:4000]}")


def run_profiler(tmp_path, module, source):
    """Profile `source` with `python -m <module> -o`; the .prof path."""
    prog = tmp_path / "prog.py"
    prog.write_text(textwrap.dedent(source))
    out = tmp_path / f"{module}.prof"
    r = subprocess.run([sys.executable, "-m", module, "-o", str(out), str(prog)],
                       capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    return str(out)


PROGRAM = """
    import json, re

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    class Shape:
        def __init__(self, k):
            self.k = k
        def area(self):
            return sum(i * self.k for i in range(20))

    def gen(n):
        for i in range(n):
            yield i * i

    def mutual_a(n):
        return mutual_b(n - 1) if n > 0 else 0

    def mutual_b(n):
        return mutual_a(n - 1) + 1 if n > 0 else 0

    def main():
        for _ in range(3):
            fib(14)
        shapes = [Shape(k) for k in range(50)]
        total = sum(s.area() for s in shapes)
        data = json.dumps({"total": total, "xs": list(gen(100))})
        json.loads(data)
        sorted(range(300), key=lambda x: -x)
        re.findall(r"\\d+", data)
        mutual_a(40)
        try:
            int("x")
        except ValueError:
            pass

    main()
"""


@pytest.fixture(scope="module")
def cprofile_file(tmp_path_factory):
    return run_profiler(tmp_path_factory.mktemp("cprof"), "cProfile", PROGRAM)


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory):
    return run_profiler(tmp_path_factory.mktemp("prof"), "profile", PROGRAM)


def synthetic(seed, n=60, plain_callers=False):
    """Recursion (nc != cc), built-ins, ties, long and non-ASCII names."""
    rnd = random.Random(seed)
    files = ["/a/short.py", "/" + "very_long_directory_name/" * 6 + "deep_module.py",
             "rel/ünïcode_模块.py", "/a/short.py".upper(), "z.py"]
    names = ["f", "g", "main", "<lambda>", "<genexpr>", "fünf", "名前", "fib", "a" * 70]
    keys = set()
    while len(keys) < n:
        r = rnd.random()
        if r < 0.15:
            keys.add(("~", 0, rnd.choice(["<built-in method builtins.len>", "<built-in method x>",
                                          "<method 'append' of 'list' objects>", "<>",
                                          "no_brackets", "<half", "half>", "<b%d>" % len(keys)])))
        else:
            keys.add((rnd.choice(files), rnd.choice([0, 1, 2, 7, 100, 12345, -1]),
                      rnd.choice(names)))
    keys = sorted(keys)
    rnd.shuffle(keys)
    times = [0.0, 0.0005, 0.001, 0.0015, 0.25, 1.0, 12.3456789, 1e-9, 2.0005]
    stats = {}
    for key in keys:
        callers = {}
        for c in rnd.sample(keys, rnd.choice([0, 1, 1, 2, 3, 5])):
            nc = rnd.choice([1, 1, 3, 7, 100, 123456])
            cc = nc if rnd.random() < 0.7 else rnd.randint(0, nc)
            if plain_callers:
                callers[c] = nc
            else:
                callers[c] = (nc, cc, rnd.choice(times), rnd.choice(times))
        nc = rnd.choice([1, 1, 2, 3, 3, 100, 0])      # repeated values: ties
        cc = nc if rnd.random() < 0.6 else rnd.randint(0, nc)
        tt, ct = rnd.choice(times), rnd.choice(times)
        stats[key] = (cc, nc, tt, ct, callers)
    return stats


# ---- format_report against pstats ----------------------------------------------------

@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("sort", SORTS, ids=lambda s: "-".join(s) or "none")
def test_cprofile_file_every_sort(cprofile_file, sort, mode):
    stats = _engine.load_stats(cprofile_file)
    for limit in (None, 7, 0.3) if len(sort) == 1 else (None,):
        assert_same(cprofile_file, stats, sort, limit, mode)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("limit", LIMITS, ids=repr)
def test_cprofile_file_every_limit(cprofile_file, limit, mode):
    stats = _engine.load_stats(cprofile_file)
    for sort in (("cumulative",), ("time", "name"), ("stdname",)):
        assert_same(cprofile_file, stats, sort, limit, mode)


@pytest.mark.parametrize("mode", list(MODES))
def test_profile_module_file(profile_file, mode):
    stats = _engine.load_stats(profile_file)
    # the pure-Python profiler keeps plain call counts for callers
    assert any(isinstance(v, int) for e in stats.values() for v in e[4].values())
    for sort in SORTS:
        for limit in (None, 4, 0.5):
            assert_same(profile_file, stats, sort, limit, mode, addresses=True)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", list(MODES))
def test_synthetic(tmp_path, seed, mode):
    stats = synthetic(seed, plain_callers=seed == 5)
    path = write_prof(tmp_path / "s.prof", stats)
    for sort in SORTS:
        assert_same(path, stats, sort, None, mode)
    for sort in (("cumulative",), ("nfl",), ("stdname",), ("pcalls", "time")):
        for limit in (9, 0.25, "f"):
            assert_same(path, stats, sort, limit, mode)


def test_synthetic_recursion_and_builtins_text(tmp_path):
    stats = {
        ("/x/rec.py", 3, "walk"): (1, 3, 0.5, 2.0, {("/x/rec.py", 3, "walk"): (2, 0, 0.25, 1.0),
                                                   ("/x/rec.py", 9, "main"): (1, 1, 0.25, 2.0)}),
        ("/x/rec.py", 9, "main"): (1, 1, 0.0, 2.0, {}),
        ("~", 0, "<built-in method builtins.len>"): (4, 4, 0.001, 0.001,
                                                     {("/x/rec.py", 3, "walk"): (4, 4, 0.001, 0.001)}),
    }
    path = write_prof(tmp_path / "r.prof", stats)
    text = ours_text(stats, [], sort=("cumulative",))
    assert "3/1" in text and "{built-in method builtins.len}" in text
    for mode in MODES:
        for sort in SORTS:
            assert_same(path, stats, sort, None, mode)


def test_ties_keep_dict_order(tmp_path):
    keys = [("m.py", i, "f%d" % (i % 4)) for i in range(40)]
    random.Random(3).shuffle(keys)
    stats = {k: (1, 1, 0.5, 0.5, {}) for k in keys}
    path = write_prof(tmp_path / "t.prof", stats)
    for sort in (("cumulative",), ("calls",), ("name",), ("time", "name")):
        assert_same(path, stats, sort, None, "stats")


def test_numeric_sorts_signed_zero_and_extremes(tmp_path):
    # one numeric key sorts by a precomputed image of the number: -0.0 must
    # tie with 0.0, and signs, infinities and big counts keep their order
    rnd = random.Random(11)
    times = [0.0, -0.0, 1e-300, -1e-300, 5e-324, 0.5, -0.5, 1e300, float("inf"), float("-inf")]
    counts = [0, 1, 2, -3, 2**40, -2**40, 10**12 + 1, -10**12]
    stats = {("n.py", i, "f"): (rnd.choice(counts), rnd.choice(counts), rnd.choice(times),
                                rnd.choice(times), {}) for i in range(300)}
    path = write_prof(tmp_path / "n.prof", stats)
    for sort in (("time",), ("cumulative",), ("calls",), ("pcalls",)):
        assert_same(path, stats, sort, None, "stats")


def test_int_times_zero_calls_and_odd_floats(tmp_path):
    stats = {
        ("a.py", 1, "zero"): (0, 0, 0, 0, {}),                 # ints, no calls: blank percall
        ("a.py", 2, "halves"): (3, 3, 0.0005, 0.0025, {}),     # x.xxx5 rounding
        ("a.py", 3, "neg"): (1, 1, -0.0004, -1.5, {}),         # "-0.000"
        ("a.py", 4, "big"): (7, 7, 1e12, 3.5e15, {}),          # printf's path
        ("a.py", 5, "tiny"): (2, 1, 1e-300, 5e-324, {}),
        ("a.py", 6, "inf"): (1, 1, float("inf"), float("-inf"), {}),
        ("a.py", 7, "prim0"): (0, 5, 1.0, 2.0, {}),            # cc == 0: blank percall
    }
    path = write_prof(tmp_path / "o.prof", stats)
    for mode in MODES:
        for sort in (("time",), ("stdname",), ("pcalls",)):
            assert_same(path, stats, sort, None, mode)
    rnd = random.Random(7)
    halves = {("h.py", i, "f"): (1, 1, (rnd.randrange(10**6) + 0.5) / 1000,
                                 rnd.randrange(10**7) / 8000, {}) for i in range(500)}
    path = write_prof(tmp_path / "h.prof", halves)
    assert_same(path, halves, ("line",), None, "stats")


def test_surrogates_in_file_names(tmp_path):
    stats = {("/bad/\udcff\udcfe.py", 1, "f"): (1, 1, 0.1, 0.1, {("/bad/\udcff\udcfe.py", 2, "g"): (1, 1, 0.1, 0.1)}),
             ("/bad/\udcff\udcfe.py", 2, "g"): (1, 1, 0.1, 0.2, {}),
             ("/ok/\U0001f600.py", 1, "h"): (1, 1, 0.0, 0.0, {("/bad/\udcff\udcfe.py", 2, "g"): (1, 1, 0.0, 0.0)})}
    path = write_prof(tmp_path / "u.prof", stats)
    for mode in MODES:
        for sort in (("file",), ("stdname",)):
            assert_same(path, stats, sort, None, mode)


@pytest.mark.parametrize("outsider", ["nowhere.py", "nulle_part_\u00e9.py"])
def test_callers_without_an_entry(tmp_path, outsider):
    """A caller that has no entry of its own (an ASCII name or not: the text
    is then built another way)."""
    stats = {("a.py", 1, "f"): (2, 2, 0.5, 0.5, {(outsider, 3, "g"): (1, 1, 0.25, 0.25),
                                                ("a.py", 2, "h"): (1, 1, 0.25, 0.25)}),
             ("a.py", 2, "h"): (1, 1, 0.0, 0.5, {(outsider, 3, "g"): (1, 1, 0.0, 0.5)})}
    path = write_prof(tmp_path / "o.prof", stats)
    for mode in MODES:
        for sort in (("cumulative",), ("nfl",)):
            assert_same(path, stats, sort, None, mode)


def test_jprofile_top_level(tmp_path):
    stats = {("a.py", 1, "root"): (1, 1, 0.1, 0.1, {("jprofile", 0, "profiler"): (1, 1, 0.1, 0.1)})}
    path = write_prof(tmp_path / "j.prof", stats)
    assert_same(path, stats, ("time",), None, "stats")


def test_empty_stats():
    assert ours_text({}, []) == "         0 function calls in 0.000 seconds\n\n"
    assert ours_text({}, [], mode="callers") == ""


@pytest.mark.parametrize("mode", list(MODES))
def test_callers_keys_not_shared(tmp_path, mode):
    """Callers named by equal but distinct tuples (as in cProfile's own
    stats dict) print the same as by the functions' own key tuples."""
    for seed in (0, 5):
        stats = synthetic(seed, plain_callers=seed == 5)
        fresh = {k: v[:4] + ({tuple(list(ck)): cv for ck, cv in v[4].items()},)
                 for k, v in stats.items()}
        assert all(ck is not k for v in fresh.values() for ck in v[4] for k in stats)
        path = write_prof(tmp_path / "f.prof", fresh)
        for sort in (("cumulative",), ("nfl",)):
            assert_same(path, fresh, sort, None, mode)
            assert ours_text(fresh, [], sort, None, mode) == ours_text(stats, [], sort, None, mode)


def test_sort_spellings():
    stats = synthetic(1, n=20)
    base = _engine.format_report(stats, sort=("cumulative",))
    assert _engine.format_report(stats) == base
    assert _engine.format_report(stats, sort="cumulative") == base
    assert _engine.format_report(stats, sort=["cumulative"]) == base
    assert _engine.format_report(stats, sort=2) == base               # legacy int
    assert _engine.format_report(stats, sort=pstats.SortKey.CUMULATIVE) == base
    assert _engine.format_report(stats, sort=("cumtime",)) == base


def test_bad_arguments():
    stats = synthetic(2, n=10)
    for bad in ("c", "cum", "n", "t", "nope", ""):       # ambiguous or unknown, as in pstats
        with pytest.raises(ValueError, match="^pyrometer: .*sort key"):
            _engine.format_report(stats, sort=(bad,))
    with pytest.raises(TypeError):
        _engine.format_report(stats, sort=(1.5,))
    with pytest.raises(ValueError, match="^pyrometer: mode"):
        _engine.format_report(stats, mode="tree")
    with pytest.raises(TypeError, match="^pyrometer: stats must be a dict"):
        _engine.format_report([])
    with pytest.raises(TypeError, match="^pyrometer: limit"):
        _engine.format_report(stats, limit=object())
    with pytest.raises(TypeError):
        _engine.format_report(stats, files=[1])
    with pytest.raises(TypeError):
        _engine.format_report(stats, "cumulative")       # keyword-only


# (stats, whether only a callers dict's items are wrong)
MALFORMED = [
    ({("a.py", 1): (1, 1, 0.0, 0.0, {})}, False),
    ({("a.py", "1", "f"): (1, 1, 0.0, 0.0, {})}, False),
    ({("a.py", 1, "f"): (1, 1, 0.0, 0.0)}, False),
    ({("a.py", 1, "f"): (1.0, 1, 0.0, 0.0, {})}, False),
    ({("a.py", 1, "f"): (True, 1, 0.0, 0.0, {})}, False),
    ({("a.py", 1, "f"): (1, 1, "0", 0.0, {})}, False),
    ({("a.py", 1, "f"): (1, 1, 0.0, 0.0, [])}, False),
    ({("a.py", 1, "f"): (2**70, 1, 0.0, 0.0, {})}, False),
    ({("a.py", 1, "f"): (1, 1, 0.0, 0.0, {("b.py", 1, "g"): (1, 1, 0.0)})}, True),
    ({("a.py", 1, "f"): (1, 1, 0.0, 0.0, {"b.py": (1, 1, 0.0, 0.0)})}, True),
]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("stats, callers_only", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_stats(stats, callers_only, mode):
    if callers_only and mode == "stats":
        # print_stats() never reads the callers' items, and neither do we
        _engine.format_report(stats, mode=mode)
        return
    with pytest.raises(ValueError) as e:
        _engine.format_report(stats, mode=mode)
    msg = str(e.value)
    assert msg.startswith("pyrometer: stats is not a pstats dict (") and "\n" not in msg


# ---- load_stats ------------------------------------------------------------------

def test_load_cprofile_file(cprofile_file):
    with open(cprofile_file, "rb") as f:
        expected = marshal.load(f)
    assert _engine.load_stats(cprofile_file) == expected
    import pathlib
    assert _engine.load_stats(pathlib.Path(cprofile_file)) == expected
    assert _engine.load_stats(os.fsencode(cprofile_file)) == expected


def code_named(obj):
    """What the reader makes of a code object: its repr less the address."""
    if isinstance(obj, tuple):
        return tuple(code_named(o) for o in obj)
    if isinstance(obj, dict):
        return {code_named(k): code_named(v) for k, v in obj.items()}
    if hasattr(obj, "co_code"):
        return f'<code object {obj.co_name}, file "{obj.co_filename}", line {obj.co_firstlineno}>'
    return obj


def test_load_profile_module_file(profile_file):
    with open(profile_file, "rb") as f:
        expected = marshal.load(f)
    assert _engine.load_stats(profile_file) == code_named(expected)


@pytest.mark.parametrize("version", range(marshal.version + 1))
def test_load_every_marshal_version(tmp_path, version):
    stats = synthetic(4)
    stats[("big.py", 2**40, "huge")] = (2**62, 2**63 - 1, 0.5, 1.5,
                                        {("big.py", -2**63, "x"): (2**33, 2**60, 0.0, 7)})
    stats[("big.py", -2**63, "x")] = (-2**31, 2**31, 0.25, -2**62, {})
    path = write_prof(tmp_path / "v.prof", stats, version)
    with open(path, "rb") as f:
        assert _engine.load_stats(path) == marshal.load(f)


def test_load_null_value_ends_dict_like_marshal(tmp_path):
    data = marshal.dumps({("a.py", 1, "f"): (1, 1, 0.0, 0.0, {})})
    # marshal ends a dict at a NULL in place of a value, dropping the key
    damaged = data[:-1] + marshal.dumps(("b.py", 2, "g")) + b"0" + b"garbage"
    path = tmp_path / "null.prof"
    path.write_bytes(damaged)
    assert marshal.loads(damaged) == marshal.loads(data)
    assert _engine.load_stats(str(path)) == marshal.loads(data)


def test_load_shares_caller_keys(cprofile_file):
    """A function's key tuple also names it among the callers of others."""
    stats = _engine.load_stats(cprofile_file)
    own = {id(k) for k in stats}
    callers = [ck for v in stats.values() for ck in v[4]]
    assert callers and all(id(ck) in own for ck in callers if ck in stats)
    assert not gc.is_tracked(next(iter(stats)))


def test_load_ignores_a_trailing_object(tmp_path, cprofile_file):
    with open(cprofile_file, "rb") as f:
        data = f.read()
    path = tmp_path / "two.prof"
    path.write_bytes(data + marshal.dumps({"pyrometer": [1, 2, 3]}) + b"junk")
    assert _engine.load_stats(str(path)) == marshal.loads(data)


def test_load_and_report_roundtrip_with_dump_stats(tmp_path):
    stats = synthetic(5)
    path = str(tmp_path / "d.prof")
    _engine.dump_stats(path, stats)
    loaded = _engine.load_stats(path)
    assert loaded == stats
    expected, files = pstats_text(path, ("tottime",), 10, "stats")
    assert ours_text(loaded, files, sort=("tottime",), limit=10) == expected


def test_load_restores_gc_state(cprofile_file):
    assert gc.isenabled()
    _engine.load_stats(cprofile_file)
    assert gc.isenabled()
    gc.disable()
    try:
        _engine.load_stats(cprofile_file)
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(_engine.FormatError):
        _engine.load_stats(__file__)
    assert gc.isenabled()


def test_format_error_is_value_error():
    assert issubclass(_engine.FormatError, ValueError)


def one_line(exc_info, path=None):
    msg = str(exc_info.value)
    assert "\n" not in msg
    assert msg.startswith("pyrometer: ")
    if path is not None:
        assert str(path) in msg
    return msg


def test_load_missing_file(tmp_path):
    path = tmp_path / "nope.prof"
    with pytest.raises(FileNotFoundError) as e:
        _engine.load_stats(str(path))
    msg = one_line(e, path)
    assert "No such file" in msg
    assert e.value.errno == 2


def test_load_directory(tmp_path):
    with pytest.raises(OSError) as e:
        _engine.load_stats(str(tmp_path))
    one_line(e, tmp_path)


@pytest.mark.parametrize("name, data, why", [
    ("empty", b"", "empty"),
    ("text", b"hello, this is a text file\n", "not marshal data"),
    ("script", b"import os\nprint(os.getcwd())\n", "int, not a dict"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40), "not marshal data"),
    ("json", b'{"a": [1, 2, 3]}', "corrupt"),
    ("list", marshal.dumps([1, 2, 3]), "list, not a dict"),
    ("tuple", marshal.dumps((1, 2)), "tuple, not a dict"),
    ("lisp", b"(defun f (x) x)", "tuple, not a dict"),
    ("bracket", b"[" + b"\xff" * 4, "list, not a dict"),
    ("str_keys", marshal.dumps({"a": 1}), "filename, lineno, funcname"),
    ("bad_value", marshal.dumps({("a.py", 1, "f"): (1, 2, 3)}), "(cc, nc, tt, ct, callers)"),
    ("bad_caller", marshal.dumps({("a.py", 1, "f"): (1, 1, 0.0, 0.0, {("b", 1, "g"): "x"})}),
     "(nc, cc, tt, ct)"),
    ("list_inside", marshal.dumps({("a.py", 1, "f"): [1, 1, 0.0, 0.0, {}]}), "list"),
    ("huge_tuple", b"{)\x03\xfa\x04a.py\xe9\x01\x00\x00\x00\xfa\x01f(\xff\xff\xff\x7f", "ends early"),
    ("bad_ref", b"{\xa9\x03r\x07\x00\x00\x00", "reference"),
    ("too_big", marshal.dumps({("a.py", 1, "f"): (2**63, 1, 0.0, 0.0, {})}), "too big"),
    ("huge_int", marshal.dumps({("a.py", 1, "f"): (10**40, 1, 0.0, 0.0, {})}), "too big"),
    ("deep", b"{" + b")\x01" * 40 + b"N", "nests deeper"),
    ("unhashable", marshal.dumps({("a.py", 1, "f"): 1})[:1] + b"{0" + b")\x00", "corrupt"),
])
def test_load_not_a_profile(tmp_path, name, data, why):
    path = tmp_path / f"{name}.prof"
    path.write_bytes(data)
    with pytest.raises(_engine.FormatError) as e:
        _engine.load_stats(str(path))
    msg = one_line(e, path)
    assert " is not a profile file (" in msg and msg.endswith(")")
    assert why in msg


def test_load_truncated_profiles(tmp_path, cprofile_file):
    with open(cprofile_file, "rb") as f:
        data = f.read()
    path = tmp_path / "cut.prof"
    for n in sorted({1, 2, 5, 17, 100, len(data) // 3, len(data) // 2, len(data) - 1}
                    | set(random.Random(1).sample(range(1, len(data)), 60))):
        path.write_bytes(data[:n])
        with pytest.raises(_engine.FormatError) as e:
            _engine.load_stats(str(path))
        one_line(e, path)


def _is_pstats_dict(d):
    def key_ok(k):
        return (type(k) is tuple and len(k) == 3 and isinstance(k[0], str)
                and isinstance(k[1], int) and isinstance(k[2], str) and -2**63 <= k[1] < 2**63)

    def count(x):
        return type(x) is int and -2**63 <= x < 2**63

    def time_(x):
        return isinstance(x, float) or count(x)

    if type(d) is not dict:
        return False
    for k, v in d.items():
        if not (key_ok(k) and type(v) is tuple and len(v) == 5 and count(v[0]) and count(v[1])
                and time_(v[2]) and time_(v[3]) and isinstance(v[4], dict)):
            return False
        for ck, cv in v[4].items():
            if not key_ok(ck):
                return False
            if not (count(cv) or (type(cv) is tuple and len(cv) == 4 and count(cv[0])
                                  and count(cv[1]) and time_(cv[2]) and time_(cv[3]))):
                return False
    return True


def test_load_damaged_profiles_agree_with_marshal(tmp_path):
    """Random byte damage: marshal's dict, or FormatError; never a crash.

    Where we find the data shorter than its sizes claim, or holding a type no
    profile has, marshal is not asked: it would fail too, but only after
    allocating what the damaged sizes claim, which takes it up to a minute.
    Nor where we find a reference to a tuple from inside itself: marshal
    builds the cycle, and hashing it crashes the interpreter.  (Both are why
    load_stats() has its own parser.)"""
    stats = synthetic(3, n=25)
    rnd = random.Random(11)
    path = tmp_path / "damaged.prof"
    for version in (2, marshal.version):
        data = marshal.dumps(stats, version)
        for _ in range(1500):
            b = bytearray(data)
            for _ in range(rnd.choice([1, 1, 2, 4])):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            b = bytes(b)
            path.write_bytes(b)
            try:
                ours = _engine.load_stats(str(path))
            except _engine.FormatError as e:
                msg = str(e)
                assert msg.startswith("pyrometer: ") and "\n" not in msg
                if any(s in msg for s in ("ends early", "no profile has", "recursive reference")):
                    continue
                try:
                    theirs = marshal.loads(b)
                except Exception:
                    continue
                assert not (_is_pstats_dict(theirs) and b[0] & 0x7f == ord("{")), msg
            else:
                assert _is_pstats_dict(ours)
                assert repr(ours) == repr(marshal.loads(b))
