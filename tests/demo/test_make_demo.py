from __future__ import annotations

import shutil
import subprocess
import sys

DATA_FILES = ("reviews_shop_a.csv", "reviews_shop_b_gbk.csv", "chats.tsv")


def test_make_demo_rewrites_the_bundled_files_byte_for_byte(tmp_path, demo_dir):
    # the script writes next to itself, so a copy regenerates into tmp_path
    script = shutil.copy(demo_dir / "make_demo.py", tmp_path)
    subprocess.run([sys.executable, script], cwd=tmp_path, check=True, capture_output=True)
    for name in DATA_FILES:
        assert (tmp_path / name).read_bytes() == (demo_dir / name).read_bytes(), name
