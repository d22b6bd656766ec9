"""Build the no-op hook modules `_floor` (function mode) and `_floor_lines`
(line mode) for the interpreter running this script.

    python bench/floor/build.py [OUT_DIR]

OUT_DIR defaults to bench/.build/<X.Y>/ (gitignored).  Prints the directory
holding the built modules (put it on sys.path to `import _floor`).  Rebuilds
a module only when its source is newer than it.  Uses setuptools when it is
installed, else the C compiler sysconfig names.
"""
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = ["_floor", "_floor_lines"]
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-O2", "-fno-strict-aliasing"]


def default_out():
    tag = "%d.%d" % sys.version_info[:2]
    return os.path.join(os.path.dirname(HERE), ".build", tag)


def source_path(name):
    return os.path.join(HERE, name + ".c")


def target_path(out, name="_floor"):
    return os.path.join(out, name + sysconfig.get_config_var("EXT_SUFFIX"))


def build_setuptools(out, name):
    from setuptools import Extension
    from setuptools.dist import Distribution

    with tempfile.TemporaryDirectory(prefix="floor-build-") as tmp:
        dist = Distribution({
            "name": "pyrometer-floor",
            "ext_modules": [Extension(name, [source_path(name)], extra_compile_args=CFLAGS)],
        })
        cmd = dist.get_command_obj("build_ext")
        cmd.build_lib = out
        cmd.build_temp = tmp
        cmd.ensure_finalized()
        cmd.run()


def build_cc(out, name):
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")
    include = sysconfig.get_paths()["include"]
    cmd = cc + CFLAGS + ["-fPIC", "-shared", "-I", include, source_path(name),
                         "-o", target_path(out, name)]
    subprocess.run(cmd, check=True)


def build(out=None):
    out = os.path.abspath(out or default_out())
    os.makedirs(out, exist_ok=True)
    try:
        import setuptools  # noqa: F401
    except ImportError:
        builder = build_cc
    else:
        builder = build_setuptools
    for name in MODULES:
        target = target_path(out, name)
        if (os.path.exists(target)
                and os.path.getmtime(target) >= os.path.getmtime(source_path(name))):
            continue
        builder(out, name)
        if not os.path.exists(target):
            raise SystemExit("floor: build produced no %s" % target)
    return out


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else None))
