"""Plans: the jobs of `nbnumba batch`, one nbnumba argument list each, and the generators of
the common series.

A plan is text with one job per line, the arguments of one `nbnumba` run split as a shell
splits them; `#` starts a comment and blank lines are skipped.  A line that also holds one
of these options (two dashes: no nanoBragg flag has two) expands into a series of jobs on
top of the line's other arguments, its base:

    --rotation START STEP COUNT    frame i = 1..COUNT adds -phi START+(i-1)*STEP -osc STEP
    --random-orientations COUNT    frame i adds -misset random -misset_seed K_i
    --seed S                       the generators' seed (default 1)

A frame writes every image its base writes (float, int, PGM, noise; default names too)
under a numbered name, intimage.img -> intimage_00001.img, so it is exactly the command
`nbnumba BASE -phi ... -osc ... -floatfile floatimage_00001.bin ...` run alone; its SMV
headers carry its own phi.  Noise seeds: a base with -seed keeps it in every frame (as the
single command with those arguments would); a base that writes a noise image without one
gives frame i `-seed N_i`.  K_i and N_i are row i of numpy's default_rng(S).integers(1,
2**31 - 1, (COUNT, 2)): the same S gives the same frames, and a longer series starts with
the frames of a shorter one.  A rotation series with -misset random needs -misset_seed
(each frame would otherwise draw its own orientation from the clock).

Output names are relative to the output folder, where each job runs.  The files a job reads
(-hkl, -mat, -img, -mask, -sourcefile, -stol, -4stol, -Q, -dump) are relative to the folder
the batch started from: `Job.run_args` makes them absolute when the two folders differ.
"""
import os
import shlex
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from nbnumba.errors import NBError

# the images in the order the C writes them: (kind, Options field, the flag naming it)
OUTPUTS = (("float", "floatfilename", "-floatfile"), ("int", "intfilename", "-intfile"),
           ("pgm", "pgmfilename", "-pgmfile"), ("noise", "noisefilename", "-noisefile"))
GENERATORS = {"--rotation": 3, "--random-orientations": 1, "--seed": 1}    # option: values
DEFAULT_SEED = 1
DIGITS = 5          # intimage_00001.img (more digits for series of 100000 frames or more)


class PlanError(NBError):
    """A plan nbnumba batch refuses (exit status 2): one line naming the plan line."""

    def __init__(self, message):
        super().__init__(message, 2)


@dataclass
class Job:
    """One nbnumba run of a batch.

    Attributes
    ----------
    args : list of str
        The nbnumba arguments.
    outputs : dict
        {kind: file name} of the images it writes ("float", "int", "pgm", "noise"), relative
        to the output folder; empty when the arguments cannot be read (the job then fails
        with the command's error line).
    inputs : tuple of int
        Positions in `args` of the names of files it reads.
    line : int
        Its plan line (0 outside a plan).
    frame : int
        Its number in its series (1, 2, ...; 0 for a single job).
    info : dict
        What the generator chose: phi, misset_seed, seed.
    """
    args: list
    outputs: dict
    inputs: tuple = ()
    line: int = 0
    frame: int = 0
    info: dict = field(default_factory=dict)

    def run_args(self, cwd, outdir):
        """The arguments to run in `outdir`, with the input file names made absolute (from
        `cwd`) when the job runs elsewhere (outdir None: in a worker's own folder)."""
        return self.args_from(cwd, not runs_where_it_starts(cwd, outdir))

    def args_from(self, cwd, elsewhere):
        """The arguments, with the input file names made absolute from `cwd` if `elsewhere`."""
        args = list(self.args)
        if elsewhere:
            for j in self.inputs:
                if args[j]:
                    args[j] = os.path.join(cwd, args[j])
        return args


def runs_where_it_starts(cwd, outdir):
    """Whether jobs run in `outdir` run in the folder `cwd` itself (their input names then
    stay as they are)."""
    return outdir is not None and os.path.realpath(outdir) == os.path.realpath(cwd)


def _read(args):
    """(Options, the flags that fired (each row's first name), input positions) of an argument
    list, as the command reads it;
    raises NBError as the command would refuse it."""
    from nbnumba.args.flags import CACHE, READS
    from nbnumba.args.interpret import interpret
    from nbnumba.errors import Warner

    fired, inputs = set(), []

    def match(j, flag):
        fired.add(flag.names[0])
        if flag.file in (READS, CACHE):         # a file the job reads
            inputs.append(j + 1)

    options = interpret(list(args), lambda text: None, Warner(lambda line: None), on_match=match)
    return options, fired, tuple(sorted(set(inputs)))


def _outputs(options):
    """{kind: name} of the images a run with these Options writes."""
    return {kind: getattr(options, name) for kind, name, _ in OUTPUTS
            if (kind != "pgm" or options.write_pgm) and (kind != "noise" or options.calculate_noise)}


def job(args, line=0):
    """The Job of one argument list (or a string, split as a shell splits it)."""
    args = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
    try:
        options, _, inputs = _read(args)
    except NBError:
        return Job(args, {}, line=line)
    return Job(args, _outputs(options), inputs, line)


def numbered(name, frame, width=DIGITS):
    """`name` with the frame number before its extension: intimage.img -> intimage_00001.img."""
    stem, ext = os.path.splitext(name)
    return "%s_%0*d%s" % (stem, width, frame, ext)


def _decimal(text, what):
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise PlanError(f"{what}: '{text}' is not a number") from None
    if not value.is_finite():
        raise PlanError(f"{what}: '{text}' is not a finite number")
    return value


def _text(value):
    """A Decimal as the shortest plain decimal: 0.50 -> 0.5, 1E+2 -> 100."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _count(text, what):
    try:
        count = int(str(text))
    except ValueError:
        count = 0
    if count < 1:
        raise PlanError(f"{what}: the count must be a whole number of at least 1, not '{text}'")
    return count


def _series(base, count, seed, frame_args, what):
    """The frames of a series: base + frame_args(i, misset_seed) + numbered output names
    (+ a noise seed where the base writes noise without one)."""
    base = shlex.split(base) if isinstance(base, str) else [str(a) for a in base]
    try:
        options, fired, inputs = _read(base)
    except NBError as err:
        raise PlanError(f"{what}: {err.message}") from None
    count = _count(count, what)
    if not str(seed).isdigit():
        raise PlanError(f"{what}: --seed needs a whole number of at least 0, not '{seed}'")
    import numpy as np
    seeds = np.random.default_rng(int(seed)).integers(1, 2**31 - 1, size=(count, 2))
    width = max(DIGITS, len(str(count)))
    names = _outputs(options)
    flags = {kind: flag for kind, _, flag in OUTPUTS}
    jobs = []
    for i in range(1, count + 1):
        misset_seed, noise_seed = (int(s) for s in seeds[i - 1])
        args = list(base)
        extra, info = frame_args(i, misset_seed)     # last: -misset_seed reads 3 values where 3 follow
        outputs = {kind: numbered(name, i, width) for kind, name in names.items()}
        for kind, name in outputs.items():
            args += [flags[kind], name]
        if options.calculate_noise and "-seed" not in fired:
            args += ["-seed", str(noise_seed)]
            info["seed"] = noise_seed
        jobs.append(Job(args + extra, outputs, inputs, frame=i, info=info))
    return jobs, options, fired


def rotation_series(base, start, step, count, seed=DEFAULT_SEED, what="--rotation"):
    """Frames 1..count of a rotation series: frame i is `base -phi START+(i-1)*STEP -osc STEP`
    with numbered output names (see the module docstring for the names and seeds).

    Parameters
    ----------
    base : list of str or str
        The arguments every frame shares.
    start, step : float or str
        Degrees; the frames' -phi values are computed in decimal (0.1 + 2*0.1 is 0.3).
    count : int
        The number of frames.
    seed : int, optional
        Seeds the noise seeds of a base that writes noise without -seed.

    Returns
    -------
    list of Job
    """
    start, step = _decimal(start, what), _decimal(step, what)

    def frame(i, misset_seed):
        phi = _text(start + (i - 1) * step)
        return ["-phi", phi, "-osc", _text(step)], {"phi": phi}

    jobs, options, fired = _series(base, count, seed, frame, what)
    if options.misset[0] == -1 and "-misset_seed" not in fired:
        raise PlanError(f"{what}: -misset random needs -misset_seed in a rotation series "
                        "(each frame would draw its own orientation from the clock)")
    return jobs


def random_orientations(base, count, seed=DEFAULT_SEED, what="--random-orientations"):
    """An orientation ensemble: frame i is `base -misset random -misset_seed K_i` with numbered
    output names; nanoBragg.c's own random orientation, so each frame is a command the C
    runs as well.  The misset angles the run prints are recorded by nbnumba batch.

    Parameters
    ----------
    base : list of str or str
        The arguments every frame shares.
    count : int
        The number of frames.
    seed : int, optional
        Seeds K_i (and the noise seeds of a base that writes noise without -seed).

    Returns
    -------
    list of Job
    """
    def frame(i, misset_seed):
        return ["-misset", "random", "-misset_seed", str(misset_seed)], {"misset_seed": misset_seed}

    return _series(base, count, seed, frame, what)[0]


def _line_jobs(words, where):
    """The jobs of one plan line (its words, comment removed)."""
    base, options = [], {}
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("--"):
            base.append(word)
            i += 1
            continue
        if word not in GENERATORS:
            raise PlanError(f"{where}: unknown option {word} (a plan line may hold --rotation START STEP COUNT, "
                            "--random-orientations COUNT and --seed S)")
        n = GENERATORS[word]
        values = words[i + 1:i + 1 + n]
        if len(values) < n or word in options:
            raise PlanError(f"{where}: {word} needs {n} value{'s' if n > 1 else ''}, once")
        options[word] = values
        i += 1 + n
    seed = options.get("--seed", [DEFAULT_SEED])[0]
    if "--rotation" in options and "--random-orientations" in options:
        raise PlanError(f"{where}: --rotation and --random-orientations cannot share a line")
    if "--rotation" in options:
        return rotation_series(base, *options["--rotation"], seed=seed, what=where)
    if "--random-orientations" in options:
        return random_orientations(base, options["--random-orientations"][0], seed=seed, what=where)
    if "--seed" in options:
        raise PlanError(f"{where}: --seed goes with --rotation or --random-orientations")
    return [job(base)]


def parse_plan(text, source="plan"):
    """The jobs of a plan's text, each with its line number; raises PlanError naming the
    line of a generator that cannot expand."""
    jobs = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{source} line {number}"
        try:
            words = shlex.split(line, comments=True)
        except ValueError as err:
            raise PlanError(f"{where}: {err}") from None
        if words:
            for j in _line_jobs(words, where):
                j.line = number
                jobs.append(j)
    return jobs


def check_outputs(jobs, outdir, source="plan"):
    """Raise PlanError where two jobs would write the same file."""
    owner = {}
    for j in jobs:
        for name in j.outputs.values():
            path = os.path.normpath(os.path.join(outdir, name))
            if path in owner and owner[path] is not j:
                raise PlanError(f"{where(owner[path], source)} and {where(j, source)} both write {name}")
            owner[path] = j


def where(j, source):
    """Where job j comes from, for messages: "PLAN line N frame F" (or "job ...")."""
    place = f"{source} line {j.line}" if j.line else "job"
    return f"{place} frame {j.frame}" if j.frame else place
