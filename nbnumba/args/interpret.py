"""argv -> Options, with nanoBragg.c's argument semantics (main(), lines ~400-1120).

Two passes, as the C makes them: first `-img` and `-mask` (their SMV headers set the
detector geometry), then every option in argv order through the rows of flags.FLAGS.
"""
import math
import sys

from nbnumba.cfuncs.stdio import atoi, c_format, whole_number
from nbnumba.errors import NBError, Warner
from nbnumba.folders import WORKING
from nbnumba.args.flags import FLAGS, PREPASS
from nbnumba.args.headers import apply_frame_headers
from nbnumba.args.options import Options


def _warn_odd_numbers(arg, flag, values, warn):
    """One warning per value that the row's atof/atoi does not read whole (the C takes its
    numeric prefix, or 0: "-distance abc" is -distance 0) or that is infinite or NaN (the C
    computes on with it)."""
    conv = getattr(flag.action, "conv", None)
    if conv is None:
        return
    name = arg if arg == flag.names[0] else "%s (matched as %s)" % (arg, flag.names[0])
    for text in values:
        if getattr(flag.action, "dash_ends", False) and text[:1] == "-":
            break
        value = conv(text)
        if not whole_number(text, integer=conv is atoi):
            warn(c_format("%s: '%s' is not a number; nanoBragg.c reads it as %g", (name, text, value)))
        elif not math.isfinite(value):
            warn(c_format("%s: '%s' is not a finite number; nanoBragg.c computes with %g", (name, text, value)))


def _warn_ignored(argv, used, warn):
    for j, arg in enumerate(argv):
        if j not in used:
            warn(f"ignoring argument '{arg}' (nanoBragg.c ignores it too)")


def interpret(argv, out, warn=None, on_match=None, indir=WORKING):
    """Return the Options the C would hold after its option loop for this argv.

    out(text) receives what the C prints on the way (the -img/-mask file reads, in the folder
    indir, a folders.Folder); warn (an errors.Warner, or a callable taking one line; default:
    stderr) receives one warning per argument that no option uses.  -strict (or a strict
    Warner: settings.Settings.strict) sets s.strict and makes the Warner refuse instead of
    warning.  on_match(j, flag), if given, hears of each row that fires for argv[j] (a batch
    plan learns from it where the file names are).  -device stays None unless given: the
    run's settings choose then."""
    if not isinstance(warn, Warner):
        warn = Warner(warn if warn is not None else (lambda line: print(line, file=sys.stderr)))
    s = Options.draft()
    # -strict applies from the start (the -img/-mask reads warn before the option loop); the
    # loop visits every argument starting with "-", values included, so this is where it fires
    warn.strict = warn.strict or "-strict" in argv
    used = set()
    n = len(argv)
    for j, arg in enumerate(argv):
        if arg[:1] == "-":
            for f in PREPASS:
                if f.matches(arg) and n > j + 1:
                    f.action(s, argv[j + 1:j + 2])
                    if on_match is not None:
                        on_match(j, f)
    apply_frame_headers(s, out, warn, indir)

    for j, arg in enumerate(argv):
        if arg[:1] != "-":
            continue
        for f in FLAGS:
            if not (f.matches(arg) and n > j + f.nargs):
                continue
            values = argv[j + 1:j + 1 + f.nread]
            if len(values) < min(f.nread, max(f.nargs, 1)):
                raise NBError(f"ERROR: {arg} needs a value")
            used.add(j)
            used.update(range(j + 1, j + 1 + len(values)))
            stop = f.action(s, values)
            _warn_odd_numbers(arg, f, values, warn)
            if on_match is not None:
                on_match(j, f)
            if f.stop or stop is True:
                break
        if j not in used and any(f.matches(arg) and n > j + 1 for f in PREPASS):
            used.update((j, j + 1))
    s.strict = warn.strict
    s.argv = tuple(argv)
    _warn_ignored(argv, used, warn)
    if s.misset[0] == -1 and s.misset_seed is None:
        warn("-misset random without -misset_seed: the orientation is drawn from the clock (nanoBragg.c seeds it "
             "with -seed's default, minus the time, taken before -seed is read), so every run draws another; "
             "give -misset_seed N to draw the same one again")
    return Options.freeze(s)
