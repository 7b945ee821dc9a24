"""The flag reference and -h are generated from the flags table; the committed docs must match it."""
import pathlib
import subprocess
import sys

from nbnumba.flagdoc import flag_reference
from nbnumba.flags import FLAGS

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_flag_reference_is_current():
    assert (ROOT / "docs" / "flags.md").read_text() == flag_reference(), \
        "regenerate with: python -m nbnumba.flagdoc > docs/flags.md"


def test_help_lists_every_flag():
    out = subprocess.run([sys.executable, "-m", "nbnumba", "-h"], capture_output=True, text=True)
    assert out.returncode == 0
    for f in FLAGS:
        for name in f.names:
            assert name in out.stdout
    assert "Traceback" not in out.stderr
