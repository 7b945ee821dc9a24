"""docs/flags.md, generated from the flags table: `python -m nbnumba.args.flagdoc > docs/flags.md`."""
from nbnumba.args.flags import EXACT, FLAGS, PREPASS


def _match(rule):
    if rule.how == EXACT:
        return f"`{rule.name}` exactly"
    if rule.length > 0:
        return f"contains `{rule.name}`, length {rule.length}"
    if rule.length < 0:
        return f"contains `{rule.name}`, longer than {-rule.length}"
    return f"contains `{rule.name}`"


def flag_reference():
    out = ["# nbnumba flag reference",
           "",
           "Generated from `nbnumba/args/flags.py` by `python -m nbnumba.args.flagdoc`; do not edit by hand.",
           "",
           "Rows are listed in the order nanoBragg.c tests them. Every argument that starts with `-` is",
           "tested against every row in turn, exactly as the C's `strstr`/`strcmp` chain does, so one",
           "argument can fire several rows (see `docs/quirks.md`). *Needs* is the C's guard",
           "`argc > i+n`: the row fires only when at least n more arguments follow. *Stops* means the",
           "C `continue`s to the next argument after the row. `-img` and `-mask` are also read in a",
           "first pass, before every other option. `nbnumba -h` lists the same rows by topic, under",
           "the full words a user types (`-sample_height` for the row matching `-sample_heigh`).",
           "",
           "| flag (synonyms) | how it matches | needs | units | default | sets | stops | what it does |",
           "|---|---|---|---|---|---|---|---|"]
    for f in PREPASS[1:] + FLAGS:
        names = " ".join(f"`{n}`" for n in f.names)
        match = "; ".join(_match(r) for r in f.rules)
        out.append(f"| {names} | {match} | {f.nargs} | {f.units} | {f.default} | {f.sets} | "
                   f"{'yes' if f.stop else ''} | {f.help} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(flag_reference(), end="")
