"""The flag reference and -h are generated from the flags table; the committed docs must match it.
Also: --version, the hint after the no-argument usage text, and documents that stand alone."""
import hashlib
import pathlib
import re
import subprocess
import sys

import pytest

import nbnumba
from golden import cli_env
from nbnumba.args.helptext import NO_ARGS_HINT, flag_help_text
from nbnumba.args.flagdoc import flag_reference
from nbnumba.args.flags import FLAGS, PREPASS, TOPICS

ROOT = pathlib.Path(__file__).resolve().parents[1]
# what the serial nanoBragg.c prints on stdout with no arguments (80 lines, exit 9)
C_USAGE_SHA256 = "05a1efb2006bc8e2387d8418603af4b09779db2bfff15e96db046c5e679fb565"
C_USAGE_LAST = ("\t-pix0_vector     \tvector from crystal to first pixel in image "
                "(default: beam centered on detector)")


def run_nbnumba(*args, cwd=ROOT, **env):
    return subprocess.run([sys.executable, "-m", "nbnumba", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(cli_env(), **env))


def test_flag_reference_is_current():
    assert (ROOT / "docs" / "flags.md").read_text() == flag_reference(), \
        "regenerate with: python -m nbnumba.args.flagdoc > docs/flags.md"


def help_names(text):
    """The flag words of -h's entries (the first column), one list per entry."""
    entries = []
    for line in text.splitlines():
        if line.startswith("  -"):
            left = re.split(r"\s{2,}", line.strip())[0]
            entries.append([w.rstrip(",") for w in left.split() if w.startswith("-")])
    return entries


def test_help_fits_100_columns_and_lists_every_flag_once():
    out = run_nbnumba("-h", COLUMNS="")
    assert out.returncode == 0 and out.stderr == ""
    lines = out.stdout.splitlines()
    assert max(len(l) for l in lines) <= 100
    assert [l[:-1] for l in lines if l in {t + ":" for t in TOPICS}] == list(TOPICS)
    words = [w for entry in help_names(out.stdout) for w in entry]
    assert len(words) == len(set(words)), "a word listed twice"
    rows = PREPASS[1:] + FLAGS
    for f in rows:
        for name in f.display_names:
            assert name in words, name
            assert f.matches(name), f"{name} does not fire its own row {f.names}"
    # one entry per flag: rows with the same effect share the entry of the row they join
    assert len(help_names(out.stdout)) == sum(not f.joins for f in rows)
    entry = next(e for e in help_names(out.stdout) if "-sample_height" in e)
    assert entry == ["-sample_height", "-sample_z", "-height", "-xtal_height", "-xtal_z"]
    for truncated in ("-sample_heigh ", "-mosaic_dom ", "-sample_den ", "-detector_abs "):
        assert truncated not in out.stdout
    assert "-mosaic_domains N       number of randomly-oriented mosaic domains" in out.stdout
    assert "  -distance MM            distance from origin to detector center; pivot BEAM [mm; default 100]" in lines


@pytest.mark.parametrize("width", [40, 60, 80, 150])
def test_help_fits_the_terminal_width(width):
    text = flag_help_text(width)
    assert max(len(l) for l in text.splitlines()) <= width
    assert [w for e in help_names(text) for w in e] == [w for e in help_names(flag_help_text(100)) for w in e]


def test_version():
    out = run_nbnumba("--version")
    assert (out.returncode, out.stdout, out.stderr) == (0, f"nbnumba {nbnumba.__version__}\n", "")


def test_no_arguments_prints_the_c_usage_then_one_hint(tmp_path):
    out = run_nbnumba(cwd=tmp_path)
    assert out.returncode == 9
    assert hashlib.sha256(out.stdout.encode()).hexdigest() == C_USAGE_SHA256
    assert out.stdout.splitlines()[-1] == C_USAGE_LAST
    assert out.stderr.splitlines()[-1] == NO_ARGS_HINT and len(NO_ARGS_HINT) <= 100
    assert all(word in NO_ARGS_HINT for word in ("-h", "trace-diff", "compare", "-device"))
    assert list(tmp_path.iterdir()) == []


def test_documents_stand_alone():
    """No document cites files a clone does not have."""
    docs = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("traces/*.md"), *ROOT.glob("tests/data/**/*.md"),
            *ROOT.glob("benchmarks/**/*.md")]
    for doc in docs:
        text = doc.read_text()
        for bad in ("../shared", "/work/shared", "golden_check.py", "c_behaviors.md"):
            assert bad not in text, f"{doc.relative_to(ROOT)} cites {bad}"


def test_quirks_name_real_tests():
    """Every `test_x.py::test_y` that docs/quirks.md cites exists."""
    cited = re.findall(r"`(?:tests/)?(test_\w+\.py)::(test_\w+)", (ROOT / "docs" / "quirks.md").read_text())
    assert cited
    for module, name in cited:
        assert re.search(r"^def %s\(" % name, (ROOT / "tests" / module).read_text(), re.M), (module, name)
