"""Every `nbnumba` subcommand answers `-h` and `--help`: its usage on stdout, exit 0, nothing run.

A real `python -m nbnumba` process, as a user types it (tests/golden.py cli_env())."""
import subprocess
import sys

import pytest

from golden import cli_env

# subcommand -> (its usage line after "usage: nbnumba SUBCOMMAND", the line that lists -h)
SUBCOMMANDS = {
    "trace-diff": ("[OPTIONS] C_LOG PY_LOG", "-h, --help"),
    "compare": ("[OPTIONS] [ARGS]...", "Show this message and exit (so does -h)."),  # -hkl stays a flag
    "batch": ("[OPTIONS] PLAN", "-h, --help"),
    "serve": ("[OPTIONS]", "-h, --help"),
}


@pytest.mark.parametrize("flag", ["-h", "--help"])
@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_subcommand_answers_help(tmp_path, name, flag):
    usage, help_line = SUBCOMMANDS[name]
    proc = subprocess.run([sys.executable, "-m", "nbnumba", name, flag], cwd=tmp_path, env=cli_env(),
                          capture_output=True, text=True, timeout=120)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stdout + proc.stderr
    assert proc.stdout.lower().startswith(f"usage: nbnumba {name} {usage.lower()}")
    assert help_line in proc.stdout
    assert list(tmp_path.iterdir()) == []   # nothing written
