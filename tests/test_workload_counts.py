"""On every benchmark workload (small sizes), pyrometer's call counts equal
cProfile's, function by function and caller by caller."""
import pytest

from conftest import HERE, counts, edges

WORKLOADS = HERE.parent / "bench" / "workloads"
SIZES = {"fib": 18, "julia": 12, "bias": 2000, "objects": 300, "logparse": 3000,
         "json_roundtrip": 3, "template": 3, "docutils_job": 1}


def program(tmp_path, name):
    """A module whose main() runs the workload at a small size."""
    prog = tmp_path / f"run_{name}.py"
    prog.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(WORKLOADS)!r})\n"
        f"import {name}\n"
        f"def main():\n    {name}.main({SIZES[name]})\n")
    return prog


@pytest.mark.parametrize("name", sorted(SIZES))
def test_workload_counts_equal_cprofile(tmp_path, profile_program, name):
    if name in ("docutils_job", "template"):
        pytest.importorskip({"docutils_job": "docutils", "template": "jinja2"}[name])
    prog = program(tmp_path, name)
    profile_program(prog, which="cprofile")     # warm caches (bz2 file, imports)
    ours = profile_program(prog, which="pyrometer{'fold_depth': 100000}")
    theirs = profile_program(prog, which="cprofile")
    # tempfile's random names draw a random number of random bits
    a = {k: v for k, v in counts(ours).items() if "getrandbits" not in k[2]}
    b = {k: v for k, v in counts(theirs).items() if "getrandbits" not in k[2]}
    # Code made by exec() (dataclass __init__s, namedtuple methods) can share
    # one pstats label: pyrometer adds them up, cProfile keeps only the last
    # one it meets.  Those labels may only be larger here.
    shared = {k for k in a if k[0].startswith("<") and a[k] != b.get(k)}
    for k in shared:
        assert a[k][0] >= b[k][0], k
    assert {k: v for k, v in a.items() if k not in shared} == \
        {k: v for k, v in b.items() if k not in shared}
    if not shared:
        def stable_edges(stats):
            return {k: v for k, v in edges(stats).items() if "getrandbits" not in k[1][2]}
        assert stable_edges(ours) == stable_edges(theirs)
