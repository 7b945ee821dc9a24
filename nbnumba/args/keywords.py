"""Typed keyword parameters of the Python API, as the nanoBragg arguments they stand for.

A keyword is a flag's name without its dash (`cell`, `default_F`, `detpixels`, `lambda_` for
`-lambda`, Python's keyword), checked against the flags table: a flag that takes no value is a
boolean (True gives the flag, False leaves it out), one value is a number or a string, several
values a sequence of that many.  The arguments are then interpreted as the command's are, so a
keyword means exactly what its flag means on the command line.
"""
import numbers

import numpy as np

from nbnumba.args.flags import FLAGS, PREPASS


def _arities():
    """{keyword: the numbers of values its flag rows read} from the flags table."""
    arity = {}
    for f in PREPASS + FLAGS:
        for name in set(f.display_names) | set(f.names):
            if name.startswith("-") and len(name) > 1:
                arity.setdefault(name[1:], set()).add(f.nread)
    arity["cell"] = {1, 2, 3, 4, 5, 6}      # -cell reads up to six values, stopping at a missing one
    return arity


ARITY = _arities()


def _text(value, keyword):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("%s= takes a value, not a boolean (%r)" % (keyword, value))
    if isinstance(value, numbers.Real):
        return repr(float(value)) if not isinstance(value, numbers.Integral) else str(int(value))
    if isinstance(value, str):
        return value
    raise TypeError("%s= takes a number or a string, not %s" % (keyword, type(value).__name__))


def keywords_to_argv(params):
    """The argument list for typed keyword parameters, e.g. {"cell": (100, 100, 100, 90, 90,
    90), "lambda_": 6.2, "nonoise": True} -> ["-nonoise", "-cell", "100", ..., "-lambda", "6.2"].

    Raises TypeError naming a keyword no flag has, or a value of the wrong kind or count.
    Flags without values come first (a few of the C's rows need an argument after them)."""
    switches, valued = [], []
    for keyword, value in params.items():
        name = keyword[:-1] if keyword.endswith("_") and keyword[:-1] in ARITY else keyword
        if name not in ARITY:
            raise TypeError("unexpected keyword argument %r (no nanoBragg flag -%s; see nbnumba -h)" % (keyword, name))
        counts = ARITY[name]
        if value is None:
            continue
        if 0 in counts and (value is True or value is False):
            if value:
                switches.append("-" + name)
            continue
        if isinstance(value, (list, tuple, np.ndarray)):
            values = [_text(v, keyword) for v in value]
        else:
            values = [_text(value, keyword)]
        if len(values) not in counts:
            raise TypeError("%s= takes %s value(s), got %d" % (keyword, " or ".join(str(c) for c in sorted(counts)),
                                                                 len(values)))
        valued += ["-" + name] + values
    return switches + valued
