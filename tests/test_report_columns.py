"""The function report's columns (format_report's default layout): each
column of times in one fixed-point notation with the decimals its smallest
value needs, every column as wide as its widest cell, and a "%" column,
cumtime's share of the total time.  The sorting, restrictions and callers
it shares with pstats' layout are checked against pstats in test_report.py.
"""
import math
import random
import re

import pytest

from pyrometer import _api, _engine

NAME = "filename:lineno(function)"


def table(text, section=0):
    """(titles, rows) of the `section`-th stats table: titles as (word, right
    edge), rows as (cells, name), a cell being the text of its column."""
    lines = text.splitlines()
    heads = [i for i, line in enumerate(lines) if line.endswith(NAME)]
    h = heads[section]
    head = lines[h]
    at = head.index(NAME)
    titles = [(m.group(), m.end()) for m in re.finditer(r"\S+", head[:at])]
    rows = []
    for line in lines[h + 1:]:
        if not line:
            break
        cells, left = [], 0
        for _, right in titles:
            cells.append(line[left:right].strip())
            left = right
        assert line[left:at].strip() == "", line      # nothing between the last column and the name
        rows.append((cells, line[at:]))
    return titles, rows


def decimals(cell):
    return len(cell.split(".")[1]) if "." in cell else 0


def flat(times, calls=1):
    """Stats of functions that call nothing: cumtime is tottime."""
    return {("m.py", i + 1, f"f{i}"): (calls, calls, t, t, {}) for i, t in enumerate(times)}


MAGNITUDES = [1e-9, 3.3e-9, 4.65e-7, 2.40e-5, 0.000719, 0.0123, 0.5, 1.5, 12.345678, 1e4]


# ---- the share of the total ----------------------------------------------------

def test_share_column_is_cumtime_over_the_total():
    stats = {("a.py", 1, "main"): (1, 1, 0.25, 1.0, {}),
             ("a.py", 5, "work"): (3, 3, 0.5, 0.75, {("a.py", 1, "main"): (3, 3, 0.5, 0.75)}),
             ("a.py", 9, "leaf"): (6, 6, 0.25, 0.25, {("a.py", 5, "work"): (6, 6, 0.25, 0.25)})}
    text = _api.format_report(stats)
    assert "10 function calls in 1.000 seconds" in text
    titles, rows = table(text)
    assert [t for t, _ in titles] == ["ncalls", "tottime", "percall", "cumtime", "percall", "%"]
    assert {name: cells[5] for cells, name in rows} == {
        "a.py:1(main)": "100.0", "a.py:5(work)": "75.0", "a.py:9(leaf)": "25.0"}


@pytest.mark.parametrize("seed", range(4))
def test_shares_of_a_flat_profile_add_up_to_100(seed):
    rnd = random.Random(seed)
    times = [rnd.choice(MAGNITUDES) * rnd.random() for _ in range(40)]
    stats = flat(times)
    _, rows = table(_api.format_report(stats))
    total = sum(times)
    shares = [float(cells[5]) for cells, _ in rows]
    assert sum(shares) == pytest.approx(100.0, abs=0.05 * len(rows))
    for cells, name in rows:
        t = stats[("m.py", int(name.split(":")[1].split("(")[0]), name.split("(")[1][:-1])][3]
        assert cells[5] == f"{100 * t / total:.1f}"


def test_share_of_samples_in_a_sampled_profile():
    main, work = ("p.py", 1, "main"), ("p.py", 4, "work")
    stats = {main: (2, 10, 0.002, 0.010, {}), work: (8, 8, 0.008, 0.008, {main: (8, 8, 0.008, 0.008)})}
    text = _api.format_report(stats, sampled=True)
    titles, rows = table(text)
    assert [t for t, _ in titles] == ["nsamples", "tottime", "persample", "cumtime", "persample",
                                      "%"]
    assert {name: cells[5] for cells, name in rows} == {"p.py:1(main)": "100.0",
                                                         "p.py:4(work)": "80.0"}


def test_no_total_time_leaves_the_share_blank():
    _, rows = table(_api.format_report(flat([0.0, 0.0])))
    assert [cells[5] for cells, _ in rows] == ["", ""]


# ---- one notation per column -----------------------------------------------------

def shows(v, d):
    y = abs(v) * 10 ** d
    return y >= 99.5 or abs(round(y) - y) <= 1e-6 * y


def check_columns(stats, text):
    """Every cell of a time column has its column's decimals, reads back as
    Python's formatting of the value, and a non-zero value that the column
    can show is not all zeros."""
    _, rows = table(text)
    by_name = {}
    for key, value in stats.items():
        by_name[key[2] if key[0] == "~" else f"{key[0]}:{key[1]}({key[2]})"] = value
    columns = [[] for _ in range(4)]
    for cells, name in rows:
        cc, nc, tt, ct = by_name[name][:4]
        values = [tt, tt / nc if nc else None, ct, ct / cc if cc else None]
        for c, v in enumerate(values):
            if v is None:
                assert cells[c + 1] == ""
            else:
                columns[c].append((v, cells[c + 1]))
    for col in columns:
        places = {decimals(cell) for _, cell in col}
        assert len(places) == 1, col                  # one notation
        d = places.pop()
        assert 3 <= d <= 9
        for v, cell in col:
            assert cell == f"{v:.{d}f}"
            if abs(v) >= 0.5 * 10 ** -d:
                assert cell.strip("-0.") != "", (v, cell)
        if d < 9:
            # every value shows three significant digits, or all of its digits
            assert all(shows(v, d) for v, _ in col if v != 0), col
        if d > 3:
            # no more decimals than needed: one fewer loses a value
            assert not all(shows(v, d - 1) for v, _ in col if v != 0), col


def test_mixed_magnitudes_keep_one_notation_per_column():
    stats = {}
    for i, v in enumerate(MAGNITUDES):
        stats[("m.py", i + 1, f"f{i}")] = (i + 1, i + 1, v, v * 3, {})
    text = _api.format_report(stats)
    check_columns(stats, text)
    _, rows = table(text)
    cells = {name: c for c, name in rows}
    assert cells["m.py:3(f2)"][1:3] == ["0.000000465", "0.000000155"]
    assert cells["m.py:10(f9)"][1] == "10000.000000000"
    assert "e-" not in text and "e+" not in text


def test_columns_take_the_decimals_their_values_need():
    # exact milliseconds stay at pstats' 3 decimals; 0.0035 needs a fourth;
    # 40 microseconds need three significant digits, to 7 decimals
    _, rows = table(_api.format_report(flat([0.003, 0.012])))
    assert [c[1] for c, _ in rows] == ["0.012", "0.003"]
    _, rows = table(_api.format_report(flat([0.0035, 0.012])))
    assert [c[1] for c, _ in rows] == ["0.0120", "0.0035"]
    _, rows = table(_api.format_report(flat([0.0000401234, 1.5])))
    assert [c[1] for c, _ in rows] == ["1.5000000", "0.0000401"]


@pytest.mark.parametrize("seed", range(8))
def test_random_magnitudes(seed):
    rnd = random.Random(seed)
    stats = {}
    for i in range(rnd.randint(1, 60)):
        calls = rnd.choice([1, 2, 3, 7, 1000, 123456, 10**9])
        prim = calls if rnd.random() < 0.8 else rnd.randint(1, calls)
        tt = rnd.choice([0.0, 10 ** rnd.uniform(-9, 4)])
        stats[("r.py", i, f"g{i}")] = (prim, calls, tt, tt + 10 ** rnd.uniform(-9, 4), {})
    check_columns(stats, _api.format_report(stats))


def test_total_in_the_header_is_never_all_zeros():
    assert "in 0.0004 seconds" in _api.format_report(flat([0.0001, 0.0003]))
    assert "in 0.00000123 seconds" in _api.format_report(flat([1.23e-6]))
    assert "in 2.500 seconds" in _api.format_report(flat([2.5]))


# ---- alignment -------------------------------------------------------------------

def assert_aligned(text):
    """Every number ends under its title's last letter, apart from the one
    before it, and every name starts under the name title."""
    lines = text.splitlines()
    for h, head in enumerate(lines):
        if not head.endswith(NAME):
            continue
        at = head.index(NAME)
        edges = [m.end() for m in re.finditer(r"\S+", head[:at])]
        for line in lines[h + 1:]:
            if not line:
                break
            left = 0
            for c, right in enumerate(edges):
                cell = line[left:right]
                assert cell.strip() == "" or cell[-1] != " ", (line, cell)
                assert c == 0 or cell[0] == " ", (line, cell)
                left = right
            assert line[left:at].strip() == "" and line[at] != " ", line


@pytest.mark.parametrize("seed", range(6))
def test_columns_stay_aligned_for_any_magnitude(seed):
    rnd = random.Random(seed)
    stats = {}
    for i in range(50):
        calls = rnd.choice([0, 1, 5, 10**6, 10**12])
        prim = calls if rnd.random() < 0.7 else rnd.randint(0, calls)
        tt = rnd.choice([0.0, 10 ** rnd.uniform(-9, 4), -10 ** rnd.uniform(-9, 1)])
        stats[(f"/{'d' * rnd.randint(1, 30)}/x.py", i, "f")] = (prim, calls, tt, abs(tt) * 2, {})
    assert_aligned(_api.format_report(stats))
    assert_aligned(_api.format_report(stats, sampled=True))


def test_odd_values_stay_aligned():
    stats = {
        ("a.py", 1, "zero"): (0, 0, 0, 0, {}),
        ("a.py", 3, "neg"): (1, 1, -0.0004, -1.5, {}),
        ("a.py", 4, "big"): (7, 7, 1e12, 3.5e15, {}),
        ("a.py", 5, "tiny"): (2, 1, 1e-300, 5e-324, {}),
        ("a.py", 6, "inf"): (1, 1, float("inf"), float("-inf"), {}),
        ("a.py", 7, "nan"): (1, 1, float("nan"), 1.0, {}),
        ("a.py", 8, "many"): (123456789012, 123456789013, 1.0, 2.0, {}),
    }
    text = _api.format_report(stats)
    _, rows = table(text)
    cells = {name: c for c, name in rows}
    assert cells["a.py:4(big)"][1] == "1000000000000.000000000"    # 1e-300: 9 decimals
    assert cells["a.py:3(neg)"][1] == "-0.000400000"
    assert cells["a.py:6(inf)"][1:4] == ["inf", "inf", "-inf"]
    assert cells["a.py:7(nan)"][1] == "nan"
    assert cells["a.py:8(many)"][0] == "123456789013/123456789012"
    assert len({len(line) - len(line.split("a.py", 1)[1]) for line in text.splitlines()
                if "a.py:" in line}) == 1


# ---- callers and callees -----------------------------------------------------------

def call_lines(text, title):
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("Function ") and title in line)
    sub = lines[i + 1]
    out = []
    for line in lines[i + 2:]:
        if not line:
            break
        out.append(line)
    return sub, out


@pytest.mark.parametrize("title, mode", [("was called by...", "callers"), ("called...", "callees")])
def test_call_lines_keep_one_notation_and_stay_aligned(title, mode):
    rnd = random.Random(5)
    keys = [("c.py", i, f"h{i}") for i in range(12)]
    stats = {}
    for k in keys:
        callers = {c: (n, n, rnd.choice(MAGNITUDES), rnd.choice(MAGNITUDES))
                   for c in rnd.sample(keys, 3) for n in [rnd.choice([1, 7, 10**10])]}
        stats[k] = (1, 1, 0.5, 1.0, callers)
    text = _engine.format_report(stats, mode=mode)
    sub, lines = call_lines(text, title)
    edges = [m.end() for m in re.finditer(r"\S+", sub)]
    assert sub.split() == ["ncalls", "tottime", "cumtime"]
    tt, ct = set(), set()
    for line in lines:
        body = line.split(" <- " if mode == "callers" else " -> ", 1)[-1]
        if not body.strip():
            continue
        for right in edges:
            assert line[right - 1] != " " and (right == len(line) or line[right] == " "), line
        left = edges[0]
        tt.add(decimals(line[left:edges[1]].strip()))
        ct.add(decimals(line[edges[1]:edges[2]].strip()))
        assert line[edges[2]:edges[2] + 2] == "  " and line[edges[2] + 2] != " "
    assert len(tt) == 1 and len(ct) == 1
    # the same calls, in the same order, as pstats' layout prints them
    theirs = _engine.format_report(stats, mode=mode, layout="pstats")
    assert [line.rsplit("  ", 1)[-1] for line in lines] == \
        [line.rsplit("  ", 1)[-1] for line in call_lines(theirs, title)[1]]


# ---- the same rows as pstats' layout ---------------------------------------------

@pytest.mark.parametrize("sort, limit", [(("cumulative",), None), (("time", "name"), 5),
                                         (("nfl",), 0.5), (("calls",), "f1")])
def test_rows_are_pstats_rows(sort, limit):
    rnd = random.Random(9)
    stats = flat([rnd.choice(MAGNITUDES) for _ in range(30)], calls=3)
    ours = _engine.format_report(stats, sort=sort, limit=limit)
    theirs = _engine.format_report(stats, sort=sort, limit=limit, layout="pstats")
    # (pstats' columns are 8 wide: 10000.000 pushes its names along)
    assert [name for _, name in table(ours)[1]] == [line.split(None, 5)[5] for line in
                                                    theirs.split(NAME + "\n", 1)[1].strip("\n")
                                                    .splitlines()]
    # the lines before the table are pstats', but for the total's decimals
    seconds = re.compile(r"in [0-9.]+ seconds")
    assert seconds.sub("", ours.split("   ncalls")[0]) == seconds.sub("", theirs.split("   ncalls")[0])


def test_pstats_layout_is_pstats_text():
    stats = flat([0.0035, 2.4e-5])
    text = _engine.format_report(stats, layout="pstats")
    assert "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n" in text
    assert "        1    0.004    0.004    0.004    0.004 m.py:1(f0)\n" in text
    with pytest.raises(ValueError, match="^pyrometer: layout"):
        _engine.format_report(stats, layout="wide")


def test_sample_counts_table_is_unchanged():
    stats = {("p.py", 1, "main"): (2, 10, 2.0, 10.0, {}), ("p.py", 4, "work"): (8, 8, 8.0, 8.0, {})}
    assert _api.format_report(stats, sampled=True, unit="samples") == \
        _engine.format_report(stats, sampled=True, unit="samples", layout="pstats")
