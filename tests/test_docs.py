"""The flag reference and -h are generated from the flags table; the committed docs must match it."""
import pathlib
import re
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


def test_quirks_name_real_tests():
    """Every `test_x.py::test_y` that docs/quirks.md cites exists."""
    cited = re.findall(r"`(test_\w+\.py)::(test_\w+)`", (ROOT / "docs" / "quirks.md").read_text())
    assert cited
    for module, name in cited:
        assert re.search(r"^def %s\(" % name, (ROOT / "tests" / module).read_text(), re.M), (module, name)
