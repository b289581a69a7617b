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
