"""The machine a student's results were measured on, as the class sees it: {cores, cpu, os}.

`cores` is os.cpu_count() (what the machine has; the thread count a run uses is in its summary). The CPU
model comes from /proc/cpuinfo on Linux and platform.processor() elsewhere; nothing here runs a program.
"""
from __future__ import annotations

import os
import platform

from teach_sgd.classroom.protocol import TEXT_MAX, clean_text


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Model", "Hardware", "cpu model"):
                    return clean_text(value, TEXT_MAX)
    except OSError:
        pass
    return clean_text(platform.processor() or platform.machine(), TEXT_MAX) or "unknown CPU"


def machine_info() -> dict:
    return {"cores": os.cpu_count() or 1, "cpu": cpu_model(),
            "os": clean_text(f"{platform.system()} {platform.release()}", TEXT_MAX)}
