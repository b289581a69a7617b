"""A lesson written as a file in a test's folder and loaded as the app loads it (front matter, checks and all).

    lesson = load_text(tmp_path, LESSON)         # a Lesson; a bad one raises LessonLoadError, as the app would
"""
from teach_sgd.lessons.loader import load_lesson


def load_text(tmp_path, text: str, name: str = "lesson.md"):
    path = tmp_path / name
    path.write_text(text)
    return load_lesson(path)
