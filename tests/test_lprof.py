"""line_profiler's saved files (`kernprof -l` writes script.py.lprof, a
pickled LineStats), read without unpickling: report, convert, merge and
diff take them, the numbers are line_profiler's own, and a pickle that is
anything else is refused in one line without running what it names."""
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import lprof_bytes, run_python

from pyrometer import _engine, _lines

KERNPROF = Path(sys.executable).parent / "kernprof"


def has_line_profiler():
    return run_python(["-c", "import line_profiler"]).returncode == 0


needs_kernprof = pytest.mark.skipif(
    not KERNPROF.exists() or not has_line_profiler(),
    reason="line_profiler (kernprof) is not installed for this Python")


def pyrometer(*args, **kw):
    kw.setdefault("timeout", 120)
    return run_python(["-m", "pyrometer", *map(str, args)], **kw)


PROGRAM = """\
import sys

@profile
def work(n):
    total = 0
    for i in range(n):
        if i % 3:
            total += i * i
        else:
            total -= 1
    return total


class Shape:
    @profile
    def area(self, k):
        return sum(work(j) for j in range(k))


@profile
def never_called():
    return 1


work(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
Shape().area(30)
"""


def kernprof(tmp_path, name="prog.py", args=()):
    """A real .lprof: `kernprof -l` run in tmp_path."""
    prog = tmp_path / name
    if not prog.exists():
        prog.write_text(PROGRAM)
    r = subprocess.run([str(KERNPROF), "-l", name, *args], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lprof = tmp_path / f"{name}.lprof"
    assert lprof.exists(), r.stdout
    return lprof


def line_profiler_text(tmp_path, *lprofs):
    r = run_python(["-m", "line_profiler", "-u", "1e-6", *map(str, lprofs)], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return r.stdout


ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)  ")


def tables(text):
    """{(function, line): (hits, time, per hit, % time)} and {function:
    total time} of a report in line_profiler's layout."""
    rows, totals, function = {}, {}, None
    total = None
    for line in text.splitlines():
        if line.startswith("Total time:"):
            total = float(line.split()[2])
        elif line.startswith("Function:"):
            function = line[len("Function: "):]
            totals[function] = total
        else:
            m = ROW.match(line)
            if m and function is not None:
                rows[(function, int(m.group(1)))] = m.groups()[1:]
    return rows, totals


@needs_kernprof
def test_report_of_a_kernprof_file_is_line_profilers_own(tmp_path):
    lprof = kernprof(tmp_path)
    theirs = line_profiler_text(tmp_path, lprof.name)
    r = pyrometer("report", lprof.name, "--unit", "1e-6", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ours = r.stdout
    their_rows, their_totals = tables(theirs)
    our_rows, our_totals = tables(ours)
    ran = {k: v for k, v in their_rows.items() if not k[0].startswith("never_called")}
    assert ran and our_rows == ran            # hits, times, per hit and shares alike
    for function, total in our_totals.items():
        assert total == pytest.approx(their_totals[function], rel=1e-9)
    # the source lines, read from the file as line_profiler reads them
    assert "            total += i * i" in ours
    assert re.search(r"Function: (Shape\.)?area at line 15", ours)   # qualified from 3.11
    # functions that never ran are shown on request, as line_profiler does
    r = pyrometer("report", lprof.name, "--unit", "1e-6", "--show-zero", cwd=tmp_path)
    assert "Function: never_called at line 20" in r.stdout
    assert tables(r.stdout)[0] == their_rows


@needs_kernprof
def test_kernprof_file_by_its_content_and_from_elsewhere(tmp_path):
    lprof = kernprof(tmp_path)
    renamed = tmp_path / "elsewhere" / "profile.data"
    renamed.parent.mkdir()
    shutil.copy(lprof, renamed)
    # named otherwise and read from another folder: told by its first
    # bytes, the relative source found beside the file
    r = pyrometer("report", renamed, "--unit", "1e-6", cwd=renamed.parent)
    assert r.returncode == 0, r.stderr
    assert "Could not find the source" in r.stdout      # prog.py is not beside it
    shutil.copy(tmp_path / "prog.py", renamed.parent / "prog.py")
    r = pyrometer("report", renamed, "--unit", "1e-6", cwd=tmp_path.parent)
    assert r.returncode == 0 and "Could not find" not in r.stdout, r.stdout


@needs_kernprof
def test_merge_convert_and_diff_of_kernprof_files(tmp_path):
    a = kernprof(tmp_path)
    a = a.rename(tmp_path / "a.lprof")
    b = kernprof(tmp_path, args=("500",)).rename(tmp_path / "b.lprof")
    both = tmp_path / "both.lines"
    r = pyrometer("merge", a, b, "-o", both, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2 profiles merged" in r.stderr
    merged = _lines.load(both)
    one, two = _lines.load(a), _lines.load(b)

    def hits(stats):
        return {(f["name"], t[0]): t[1] for f in stats["functions"] for t in f["timings"]}

    expected = dict(hits(one))
    for k, v in hits(two).items():
        expected[k] = expected.get(k, 0) + v
    assert hits(merged) == expected
    # line_profiler adds them up alike (its own reading of both files)
    their_rows, _ = tables(line_profiler_text(tmp_path, a.name, b.name))
    r = pyrometer("report", both, "--unit", "1e-6", cwd=tmp_path)
    our_rows, _ = tables(r.stdout)
    assert {k: v[0] for k, v in our_rows.items()} == {
        k: v[0] for k, v in their_rows.items() if not k[0].startswith("never_called")}
    # html with per-line heat, and a line-by-line diff
    r = pyrometer("convert", a, "-o", tmp_path / "a.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "a.html").read_text()
    assert "total += i * i" in page and "area" in page
    r = pyrometer("diff", b, a, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Function: work" in r.stdout


def write(tmp_path, data, name="x.lprof"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


TIMINGS = {("/nowhere/a.py", 3, "f"): [(5, 2, 400), (4, 1, 100)],
           ("/nowhere/b.py", 10, "K.g"): [(11, 7, 70)]}


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
@pytest.mark.parametrize("module", ["line_profiler.line_profiler", "line_profiler._line_profiler",
                                    "line_profiler"])
@pytest.mark.parametrize("by_args", [False, True], ids=["newobj", "reduce"])
def test_every_protocol_and_name_line_profiler_pickles_with(tmp_path, protocol, module, by_args):
    path = write(tmp_path, lprof_bytes(TIMINGS, 1e-6, protocol, module, by_args=by_args,
                                       more_attributes={"kept": [1, 2.5, None, True]}))
    stats = _engine.read_lprof(str(path))
    assert stats["unit"] == 1e-6
    assert [(f["file"], f["line"], f["name"], f["timings"], f["source"])
            for f in stats["functions"]] == [
        ("/nowhere/a.py", 3, "f", [(4, 1, 100), (5, 2, 400)], None),   # in line order
        ("/nowhere/b.py", 10, "K.g", [(11, 7, 70)], None)]


def test_float_times_and_lines_listed_twice(tmp_path):
    path = write(tmp_path, lprof_bytes({("a.py", 1, "f"): [(2, 1, 10.4), (2, 2, 5.0), (3, 1, 0)]}))
    stats = _engine.read_lprof(str(path))
    assert stats["functions"][0]["timings"] == [(2, 3, 15), (3, 1, 0)]


def test_lprof_with_lines_file_merge_in_the_finer_unit(tmp_path):
    lprof = write(tmp_path, lprof_bytes({("/p/a.py", 1, "f"): [(2, 3, 7)]}, unit=1e-6))
    ours = tmp_path / "ours.lines"
    _engine.write_lines(str(ours), {"unit": 1e-9, "meta": {}, "functions": [
        {"file": "/p/a.py", "line": 1, "name": "f", "timings": [(2, 1, 500), (3, 1, 9)],
         "source": ["def f():", "    x = 1", "    return x"]}]})
    out = tmp_path / "all.lines"
    r = pyrometer("merge", lprof, ours, "-o", out)
    assert r.returncode == 0, r.stderr
    merged = _lines.load(out)
    assert merged["unit"] == 1e-9
    (f,) = merged["functions"]
    assert f["timings"] == [(2, 4, 7500), (3, 1, 9)]
    assert f["source"] == ["def f():", "    x = 1", "    return x"]
    for bad_out, why in (("all.lprof", "line_profiler's"), ("all.prof", "prof")):
        r = pyrometer("merge", lprof, ours, "-o", tmp_path / bad_out)
        assert r.returncode == 2 and why in r.stderr and "name the output .lines" in r.stderr
    prof = tmp_path / "f.prof"
    _engine.dump_stats(str(prof), {("a.py", 1, "f"): (1, 1, 0.1, 0.1, {})})
    r = pyrometer("merge", lprof, prof, "-o", tmp_path / "mixed.prof")
    assert r.returncode == 2
    assert "line and function profiles do not add up" in r.stderr


def test_sources_are_never_read_from_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe.py"
    if hasattr(os, "mkfifo"):
        os.mkfifo(fifo)
    names = [str(fifo), "/dev/zero", str(tmp_path)]
    timings = {(name, 1, f"f{i}"): [(1, 1, 10)] for i, name in enumerate(names)}
    path = write(tmp_path, lprof_bytes(timings))
    r = pyrometer("report", path, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Could not find the source") == 3


# ---- hostile pickles --------------------------------------------------------

def pickle_of(*ops):
    return b"".join(ops)


REAL = lprof_bytes(TIMINGS, 1e-6, 4)

HOSTILE_LPROF = {
    # the classic: os.system called by REDUCE when unpickled
    "os_system": b"\x80\x02cos\nsystem\nq\x00X\x0b\x00\x00\x00touch PWNEDq\x01\x85q\x02Rq\x03.",
    "builtins_eval": (b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93"
                      b"\x8c\x1aopen('PWNED', 'w').close()\x85R."),
    "class_with_escape": b"\x80\x02cline_profiler\x1b[2J\nLineStats\n)\x81.",
    "truncated": REAL[:len(REAL) // 2],
    "truncated_unframed": lprof_bytes(TIMINGS, 1e-6, 2)[:60],
    "no_stop": REAL[:-1],
    "unknown_opcode": b"\x80\x04(i__main__\nX\n.",
    "persistent_id": b"\x80\x04P1\n.",
    "huge_unicode8": b"\x80\x04\x8d" + (2 ** 62).to_bytes(8, "little") + b"ab.",
    "huge_unicode": b"\x80\x04X\xff\xff\xff\x7fab.",
    "huge_frame": b"\x80\x04\x95" + (2 ** 63).to_bytes(8, "little") + b"N.",
    "wide_long": b"\x80\x04\x8a\xff" + b"\x01" * 255 + b".",
    "deep_marks": b"\x80\x04" + b"(" * 10000 + b".",
    "deep_tuples": b"\x80\x04)" + b"\x85" * 10000 + b".",
    "many_values": b"\x80\x04" + b"N" * 200000 + b".",
    "memo_far": b"\x80\x04Nr\xff\xff\xff\x00.",
    "memo_nothing": b"\x80\x04h\x05.",
    "list_holding_itself": b"\x80\x04]\x94h\x00a.",
    "list_as_key": b"\x80\x04}]Ns.",
    "a_plain_dict": b"\x80\x04}\x94(\x8c\x07timings}\x8c\x04unitG>.\x84\x97\x9f0\x00\x00u.",
    "protocol_9": b"\x80\x09N.",
    "not_a_pickle": b"(dp0\n.",
    "empty": b"",
    "bad_key": lprof_bytes({"a.py": [(1, 1, 1)]}),
    "negative_hits": lprof_bytes({("a.py", 1, "f"): [(1, -1, 1)]}),
    "nan_time": lprof_bytes({("a.py", 1, "f"): [(1, 1, float("nan"))]}),
    "no_unit": lprof_bytes({("a.py", 1, "f"): [(1, 1, 1)]}, unit=None),
    "zero_unit": lprof_bytes({("a.py", 1, "f"): [(1, 1, 1)]}, unit=0.0),
    "timings_not_a_dict": lprof_bytes([1, 2, 3]),
    "bad_utf8": b"\x80\x04\x8c\x02\xff\xfe.",
    "stack_underflow": b"\x80\x04\x87.",
    "appends_without_list": b"\x80\x04N(Ne.",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_LPROF))
def test_hostile_lprof_files_are_refused_in_one_line(tmp_path, name):
    import test_hostile
    data = HOSTILE_LPROF[name]
    outcome = test_hostile.check_memory(tmp_path, "read_lprof", data)
    assert outcome.startswith("FormatError: pyrometer: ") and "\n" not in outcome, outcome
    assert "is not a line_profiler file" in outcome, outcome
    path = write(tmp_path, data)
    for args in (["report", path], ["convert", path, "-o", tmp_path / "out.html"],
                 ["merge", path, "-o", tmp_path / "out.lines"], ["diff", path, path]):
        r = pyrometer(*args, cwd=tmp_path, timeout=60)
        assert r.returncode == 2, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("pyrometer: error: "), r.stderr
        assert "\x1b" not in r.stderr
    assert not (tmp_path / "PWNED").exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith("out")]


def test_what_a_pickle_names_is_said_not_loaded(tmp_path):
    path = write(tmp_path, HOSTILE_LPROF["os_system"])
    r = pyrometer("report", path, cwd=tmp_path)
    assert "names 'system' from 'os', not line_profiler's LineStats" in r.stderr
    path = write(tmp_path, HOSTILE_LPROF["class_with_escape"])
    r = pyrometer("report", path, cwd=tmp_path)
    assert "'line_profiler\\x1b[2J'" in r.stderr


def test_cut_anywhere_or_bytes_changed_never_crash(tmp_path):
    """Every prefix of a real file, and every byte of it changed, is read or
    refused cleanly (in a child: a crash fails the test)."""
    src = write(tmp_path, REAL, "real.lprof")
    code = textwrap.dedent(r'''
        import sys
        from pyrometer import _engine
        data = open(sys.argv[1], "rb").read()
        path = sys.argv[1] + ".bad"
        read = refused = 0
        blobs = [data[:k] for k in range(len(data))]
        blobs += [data[:i] + bytes([b]) + data[i + 1:] for i in range(len(data))
                  for b in (0, 0x7f, 0xff, data[i] ^ 1)]
        for blob in blobs:
            open(path, "wb").write(blob)
            try:
                _engine.read_lprof(path)
                read += 1
            except _engine.FormatError as exc:
                assert "\n" not in str(exc)
                refused += 1
        print(read, refused)
    ''')
    r = run_python(["-c", code, str(src)], timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    read, refused = map(int, r.stdout.split())
    assert refused > len(REAL) and read > 0
