"""A smaller jieba dictionary: jieba's own word list without its rarest words.

jieba keeps every word of its dictionary, and every prefix of every word, in one Python dict:
~520,000 entries, ~55 MB in each process that loads it, and a crawl runs one such process per
core. parkwatch uses jieba only to cut the few characters in front of a park or company
suffix, and the knowledge base's names are added to the tokenizer as words anyway, so the
words jieba has seen fewer than :data:`MIN_FREQ` times in its corpus (two thirds of the list)
buy nothing: with them left out, ``parkwatch eval`` printed exactly the same scores on the
labelled corpus (tests/test_eval.py keeps its targets), and a worker needs ~40 MB less. jieba
itself offers a reduced dictionary (dict.txt.small) for the same reason; this one is derived
from the installed jieba's dict.txt at first use, so nothing is downloaded or vendored.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import jieba

#: Words jieba's dictionary counts fewer times than this are left out (114,611 of 349,046 kept).
MIN_FREQ = 8


def small_dictionary(min_freq: int = MIN_FREQ, directory: Path | None = None) -> Path | None:
    """Path of the reduced dictionary, written next to jieba's cache on first use (None when
    it cannot be written: jieba's full dictionary is used then).

    The file name carries the source's size and modification time, so an upgraded jieba gets a
    new file; it is written to a temporary name and renamed, so processes starting together
    never read a half-written file.
    """
    try:
        return _write_small(min_freq, directory)
    except OSError:
        return None


def _write_small(min_freq: int, directory: Path | None) -> Path:
    source = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    stat = source.stat()
    folder = directory or Path(tempfile.gettempdir())
    target = folder / f"parkwatch-jieba-f{min_freq}-{stat.st_size}-{int(stat.st_mtime)}.txt"
    if target.exists():
        return target
    kept = []
    with source.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) >= min_freq:
                kept.append(line if line.endswith("\n") else line + "\n")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".parkwatch-jieba-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(kept)
    os.chmod(tmp, 0o644)  # readable by every user's crawl, like jieba's own cache
    os.replace(tmp, target)
    return target
