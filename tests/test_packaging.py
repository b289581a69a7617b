"""The wheel carries every subpackage and the shipped lessons (pyproject.toml lists packages explicitly)."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "teach_sgd").rglob("__init__.py")}
    assert on_disk <= listed, f"add {sorted(on_disk - listed)} to [tool.setuptools] packages"
    assert "teach_sgd.lessons_builtin" in listed


def test_shipped_lessons_are_found_by_the_loader():
    from teach_sgd.lessons.loader import builtin_dirs, lesson_files

    (folder,) = builtin_dirs()
    assert len(lesson_files(folder)) >= 11


def test_kernel_cache_follows_the_sources_even_if_numba_was_imported_first(tmp_path):
    """numba reads NUMBA_CACHE_DIR at its own import; teach_sgd must still put its kernels in the
    fingerprinted cache (else a stale kernel, compiled before a callee changed, could be loaded)."""
    import os
    import subprocess
    import sys

    from teach_sgd.child import PACKAGE_HOME

    code = ("import numba, numba.core.config as c; import teach_sgd, os; "
            "print(c.CACHE_DIR == os.environ['NUMBA_CACHE_DIR'] != '')")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE_HOME, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr


def test_every_package_of_the_source_tree_is_in_the_wheel():
    """A package left out of pyproject's list imports in a checkout and fails in every installed copy."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "teach_sgd").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject.toml's packages: {sorted(found - listed)}"
