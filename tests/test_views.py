"""Views with metric columns: a call tree whose metric is bytes goes through
every writer that can carry it, and each shows bytes, none seconds."""
import json
import re
import shutil
import subprocess

import pytest

from pyrometer import _convert, _engine

import test_html

FUNCS = [("app.py", 1, "main"), ("app.py", 10, "load"), ("app.py", 20, "parse"),
         ("~", 0, "<built-in method builtins.sorted>")]
# main -> load -> parse, main -> parse, main -> sorted
PARENT = [-1, 0, 1, 0, 0]
FUNC = [0, 1, 2, 2, 3]
CALLS = [1, 2, 40, 3, 1]
SELF = [1024, 4096, 3 * 1048576, 512 * 1024, 300]
TOTAL = [1024 + 4096 + 3 * 1048576 + 512 * 1024 + 300, 4096 + 3 * 1048576, 3 * 1048576,
         512 * 1024, 300]


def bytes_tree():
    return {"pyrometer": "calltree", "version": 2, "funcs": FUNCS, "parent": PARENT,
            "func": FUNC, "calls": CALLS, "folded": False,
            "metrics": [{"name": "allocated", "unit": "bytes", "self": SELF, "total": TOTAL},
                        {"name": "allocations", "unit": "count", "self": [1, 2, 40, 3, 1],
                         "total": [47, 42, 40, 3, 1]}]}


SECONDS = re.compile(r"\d (s|ms|µs|ns|seconds)\b|tottime|cumtime|Time|\"seconds\"")


def test_flame_graph_shows_bytes(tmp_path):
    out = tmp_path / "bytes.svg"
    _engine.write_flamegraph(str(out), bytes_tree(), title="Memory")
    svg = out.read_text()
    assert "3.5 MiB in all" in svg
    assert "total: 3.0 MiB" in svg and "self: 512.0 KiB" in svg
    assert not SECONDS.search(svg.split("<script")[0] + svg.split("]]></script>")[1])


def test_speedscope_weighs_in_bytes(tmp_path):
    out = tmp_path / "bytes.speedscope.json"
    _engine.write_speedscope(str(out), bytes_tree())
    data = json.loads(out.read_text())
    prof = data["profiles"][0]
    assert prof["unit"] == "bytes"
    assert sorted(prof["weights"]) == sorted(SELF)
    assert prof["endValue"] == sum(SELF)


def test_collapsed_values_are_bytes(tmp_path):
    out = tmp_path / "bytes.folded"
    _engine.write_collapsed(str(out), bytes_tree())
    lines = dict(line.rsplit(" ", 1) for line in out.read_text().splitlines())
    assert lines["main (app.py:1);load (app.py:10);parse (app.py:20)"] == str(3 * 1048576)
    assert sum(int(v) for v in lines.values()) == sum(SELF)
    # another metric of the same view
    _engine.write_collapsed(str(out), bytes_tree(), metric="allocations")
    assert sum(int(line.rsplit(" ", 1)[1]) for line in out.read_text().splitlines()) == 47


def test_callgrind_event_is_bytes(tmp_path):
    out = tmp_path / "bytes.callgrind"
    _engine.write_callgrind(str(out), tree=bytes_tree())
    text = out.read_text()
    assert "events: B\n" in text and "event: B : allocated (bytes)" in text
    assert f"summary: {sum(SELF)}\n" in text
    assert not SECONDS.search(text)
    if shutil.which("callgrind_annotate"):
        r = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert re.search(r"3,\d{3},\d{3} .*app.py:parse", r.stdout.replace("(", " ")), r.stdout


def test_dot_totals_in_bytes(tmp_path):
    text = _engine.format_dot(tree=bytes_tree()).decode()
    assert "Total allocated 3.5 MiB" in text
    assert not SECONDS.search(text)


def test_html_page_shows_bytes(tmp_path):
    out = tmp_path / "bytes.html"
    _engine.write_html(str(out), _convert._html_template(), tree=bytes_tree())
    data, _ = test_html.page_data(out)
    assert data["metric"] == {"name": "allocated", "unit": "bytes"}
    assert data["unit"] == 1
    assert sorted(data["tt"])[-1] == 3 * 1048576 + 512 * 1024     # parse, both paths
    if test_html.CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    dom = test_html.open_page(tmp_path, out, selftest=False)
    rows = dom.table("ftable")
    assert rows and any("MiB" in c or "KiB" in c for cells in rows for c in cells)
    shown = " ".join(" ".join(cells) for cells in rows) + " " + " ".join(dom.ids.values())
    assert not re.search(r"\d (s|ms|µs|ns)\b|tottime|cumtime", shown), shown


def test_an_unknown_metric_is_named(tmp_path):
    with pytest.raises(ValueError, match="no metric 'time' \\(it has allocated, allocations\\)"):
        _engine.write_collapsed(str(tmp_path / "x"), bytes_tree(), metric="time")


def bytes_lines():
    """A line view whose metric is bytes (as the memory mode will give)."""
    return {"metrics": [{"name": "allocated", "unit": "bytes", "scale": 1}],
            "meta": {"clock": "none"},
            "functions": [{"file": "m.py", "line": 1, "name": "build",
                           "timings": [(2, 1, 1048576), (3, 1000, 3 * 1048576)],
                           "source": ["def build():", "    big = bytearray(2**20)",
                                      "    parts = [bytes(3145) for _ in range(1000)]"]}]}


def test_line_report_in_bytes():
    text = _engine.format_lines(bytes_lines())
    assert "Unit: bytes" in text and "Total allocated: 4194304 bytes" in text
    head = next(line for line in text.splitlines() if line.lstrip().startswith("Line #"))
    assert head.split()[:5] == ["Line", "#", "Hits", "Allocated", "Per"], head
    assert "% Allocated" in head and "Time" not in text and "Timer" not in text
    rows = {int(line.split()[0]): line.split() for line in text.splitlines()
            if line[:6].strip().isdigit()}
    assert rows[3][1:5] == ["1000", "3145728.0", "3145.7", "75.0"], rows[3]


def test_line_file_with_metrics_is_version_2(tmp_path):
    import marshal
    path = tmp_path / "bytes.lines"
    _engine.write_lines(str(path), bytes_lines())
    data = marshal.loads(path.read_bytes()[16:])
    assert data["version"] == 2
    assert _engine.read_lines(str(path)) == bytes_lines()
    del data["metrics"]                 # version 2 must list them
    data["unit"] = 1e-9
    path.write_bytes(b"pyrometer-lines\n" + marshal.dumps(data))
    with pytest.raises(_engine.FormatError, match="lists its metrics"):
        _engine.read_lines(str(path))


def test_html_line_page_shows_bytes(tmp_path):
    out = tmp_path / "lines.html"
    _engine.write_html(str(out), _convert._html_template(), lines=bytes_lines())
    data, _ = test_html.page_data(out)
    assert data["metric"] == {"name": "allocated", "unit": "bytes"} and data["unit"] == 1
    if test_html.CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    dom = test_html.open_page(tmp_path, out, selftest=False)
    rows = [cells for t, cells in dom.rows if t == "src"]
    assert any("3.0 MiB" in c for cells in rows for c in cells), rows
    shown = " ".join(" ".join(cells) for _, cells in dom.rows) + " " + " ".join(dom.ids.values())
    assert not re.search(r"\d (s|ms|µs|ns)\b", shown), shown
