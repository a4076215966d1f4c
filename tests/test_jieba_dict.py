"""The reduced jieba dictionary: only frequent words, written once, safe to share."""

from __future__ import annotations

import os
from pathlib import Path

import jieba

from nlp.jieba_dict import MIN_FREQ, small_dictionary


def test_keeps_only_frequent_words_and_is_reused(tmp_path: Path) -> None:
    path = small_dictionary(directory=tmp_path)
    assert path is not None and path.parent == tmp_path
    lines = path.read_text(encoding="utf-8").splitlines()
    full = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME).read_text(encoding="utf-8").splitlines()
    expected = [line for line in full if int(line.split()[1]) >= MIN_FREQ]
    assert lines == expected and 0 < len(lines) < len(full) / 2
    mtime = path.stat().st_mtime_ns
    assert small_dictionary(directory=tmp_path) == path and path.stat().st_mtime_ns == mtime
    assert os.stat(path).st_mode & 0o044 == 0o044  # other users' crawls can read it
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".parkwatch-jieba-")]


def test_tokenizer_with_it_still_cuts_common_words(tmp_path: Path) -> None:
    tokenizer = jieba.Tokenizer(str(small_dictionary(directory=tmp_path)))
    tokenizer.add_word("格力电器")
    assert tokenizer.lcut("格力电器牵头建设示范园区") == ["格力电器", "牵头", "建设", "示范", "园区"]


def test_unwritable_place_falls_back_to_the_full_dictionary(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x", encoding="utf-8")
    assert small_dictionary(directory=not_a_directory) is None
