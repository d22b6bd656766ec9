"""Build of pyrometer's C engine; metadata lives in pyproject.toml."""
import glob
import os

from setuptools import Extension, setup

SANITIZE = os.environ.get("PYROMETER_SANITIZE")  # e.g. "address,undefined"

extra_compile = ["-std=c11", "-Wall", "-Wextra", "-O2", "-fno-strict-aliasing"]
extra_link = []
if os.environ.get("PYROMETER_WERROR"):
    extra_compile.append("-Werror")
if SANITIZE:
    extra_compile += [f"-fsanitize={SANITIZE}", "-fno-omit-frame-pointer", "-O1", "-g"]
    extra_link += [f"-fsanitize={SANITIZE}"]

# One folder per part of the engine (core, funcs, lines, formats); headers
# are included by name from any of them.
engine_dirs = sorted(d for d in glob.glob("src/engine/*") if os.path.isdir(d))

engine = Extension(
    "pyrometer._engine",
    sources=sorted(glob.glob("src/engine/*/*.c")),
    depends=sorted(glob.glob("src/engine/*/*.h")),
    include_dirs=engine_dirs,
    extra_compile_args=extra_compile,
    extra_link_args=extra_link,
)

setup(ext_modules=[engine])
