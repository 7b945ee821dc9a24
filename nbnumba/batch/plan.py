"""Plans: the jobs of `nbnumba batch`, one nbnumba argument list each, and the generators of
the common series.

A plan is text with one job per line, the arguments of one `nbnumba` run split as a shell
splits them; `#` starts a comment and blank lines are skipped.  A line that also holds one
of these options (two dashes: no nanoBragg flag has two) expands into a series of jobs on
top of the line's other arguments, its base:

    --rotation START STEP COUNT    frame i = 1..COUNT adds -phi START+(i-1)*STEP -osc STEP
    --random-orientations COUNT    frame i adds -misset random -misset_seed K_i
    --seed S                       the generators' seed (default 1)

A frame writes every file its base writes (float, int, PGM, noise images, default names too,
and -nexusfile, -cbffile, -pngfile) under a numbered name, intimage.img ->
intimage_00001.img, series.cbf -> series_00001.cbf (the template DIALS and XDS read), so it
is exactly the command `nbnumba BASE -phi ... -osc ... -floatfile floatimage_00001.bin ...`
run alone; its SMV headers carry its own phi.  Except one: a rotation series whose base has
`-nexusfile NAME` writes one NeXus file NAME of all its frames (`Series`; batch/series.py
writes it as the frames complete), and its frames' arguments do not carry -nexusfile.  Noise
seeds: a base with -seed keeps it in every frame (as the single command with those arguments
would); a base that writes a noise image without one gives frame i `-seed N_i`.  K_i and N_i
are row i of numpy's default_rng(S).integers(1, 2**31 - 1, (COUNT, 2)): the same S gives the
same frames, and a longer series starts with the frames of a shorter one.  A rotation series
with -misset random needs -misset_seed (each frame would otherwise draw its own orientation
from the clock).

Output names are relative to the output folder, where each job runs.  The files a job reads
(-hkl, -mat, -img, -mask, -sourcefile, -stol, -4stol, -Q, -dump) are relative to the folder
the batch started from: `Job.run_args` makes them absolute when the two folders differ.
"""
import hashlib
import os
import re
import shlex
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from nbnumba.errors import NBError

# the files a run writes, in the order it writes them (the C's images, then nbnumba's data sets):
# (kind, Options field, the flag naming it)
OUTPUTS = (("float", "floatfilename", "-floatfile"), ("int", "intfilename", "-intfile"),
           ("pgm", "pgmfilename", "-pgmfile"), ("noise", "noisefilename", "-noisefile"),
           ("nexus", "nexusfilename", "-nexusfile"), ("cbf", "cbffilename", "-cbffile"),
           ("png", "pngfilename", "-pngfile"))
GENERATORS = {"--rotation": 3, "--random-orientations": 1, "--seed": 1}    # option: values
DEFAULT_SEED = 1
DIGITS = 5          # intimage_00001.img (more digits for series of 100000 frames or more)
MAX_PLAN_BYTES = 64 * 2**20     # a plan of 100000 jobs of 600 characters
MAX_LINE = 65536    # characters a plan line may hold (Linux takes one argument of 128 KiB at most)
MAX_JOBS = 100000   # jobs a batch may hold (its manifest is rewritten whole every second)
RESERVED = ("manifest.json", "manifest.json.lock")     # the batch's own files in the output folder


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
        What the generator chose: phi, misset_seed, seed; and the Fdump cache it reads where
        that exists before the batch (fdump, fdump_sha256).
    fdump : str
        The Fdump cache it writes (with -hkl) or reads where it exists (without): the -dump
        name, or "Fdump.bin" in the folder it runs in; None when the arguments cannot be read.
    fdump_at : int
        The position of -dump's name in `args` (None: the default name).
    writes_fdump : bool
        Whether it writes the cache (-hkl) rather than reads it.
    series : Series
        The NeXus file of its rotation series, whose image `frame - 1` is its data image
        (None: it writes its files alone).
    """
    args: list
    outputs: dict
    inputs: tuple = ()
    line: int = 0
    frame: int = 0
    info: dict = field(default_factory=dict)
    fdump: str = None
    fdump_at: int = None
    writes_fdump: bool = False
    series: object = None

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


@dataclass(frozen=True, eq=False)
class Series:
    """The one NeXus NXmx file of a rotation series line with -nexusfile (one object per
    series: its frames share it).

    Attributes
    ----------
    name : str
        The file, relative to the output folder.
    angles : tuple of float
        Each frame's start angle in degrees, as the frame's run computes it (-phi).
    oscillation : float
        Degrees, every frame's (-osc, as the run's steps set it).
    shape : tuple of int
        (frames, slow, fast) of the images.
    kind : str
        The data image: "noise" (the run computes a noise image) or "int".
    compression : str
        -nexus_compression.
    command_line : str
        The plan line that makes it, as nbnumba batch reads it (the file's program
        configuration).
    """
    name: str
    angles: tuple
    oscillation: float
    shape: tuple
    kind: str
    compression: str
    command_line: str


def runs_where_it_starts(cwd, outdir):
    """Whether jobs run in `outdir` run in the folder `cwd` itself (their input names then
    stay as they are)."""
    return outdir is not None and os.path.realpath(outdir) == os.path.realpath(cwd)


def _read(args):
    """(Options, the flags that fired (each row's first name), input positions, the position of
    -dump's name or None, the positions of every -nexusfile) of an argument list, as the
    command reads it; raises NBError as the command would refuse it."""
    from nbnumba.args.flags import CACHE, READS
    from nbnumba.args.interpret import interpret
    from nbnumba.errors import Warner

    fired, inputs, dump, nexus = set(), [], [], []

    def match(j, flag):
        fired.add(flag.names[0])
        if flag.file in (READS, CACHE):         # a file the job reads
            inputs.append(j + 1)
        if flag.names[0] == "-dump":
            dump.append(j + 1)
        if flag.names[0] == "-nexusfile":
            nexus.append(j)

    options = interpret(list(args), lambda text: None, Warner(lambda line: None), on_match=match)
    return options, fired, tuple(sorted(set(inputs))), dump[-1] if dump else None, nexus


def geometry_of(args):
    """The output.geometry.Geometry of a run of these arguments, its detector set up as the run
    sets it up (output.geometry.oriented: nothing rendered, read or printed); NBError where
    the command refuses the arguments or the beam has no direction."""
    from nbnumba.output.geometry import geometry, oriented

    options = _read(args)[0]
    return geometry(options, *oriented(options))


def _renders(args, what):
    """Refuse an argument list that renders nothing: -h or --version (job.run_job's words)."""
    from nbnumba.job import HELP_WORDS, VERSION_WORDS
    for word in args:
        if word in HELP_WORDS or word in VERSION_WORDS:
            raise PlanError(f"{what}: {word} prints the {'help' if word in HELP_WORDS else 'version'} and "
                            "renders nothing; remove it from the batch")


def _fdump(options, dump_at):
    """Job's fdump fields of these Options."""
    return {"fdump": options.dumpfilename, "fdump_at": dump_at, "writes_fdump": options.hklfilename is not None}


def _outputs(options):
    """{kind: name} of the files a run with these Options writes."""
    return {kind: getattr(options, name) for kind, name, _ in OUTPUTS
            if getattr(options, name) is not None and (kind != "pgm" or options.write_pgm)
            and (kind != "noise" or options.calculate_noise)}


def job(args, line=0, what="job"):
    """The Job of one argument list (or a string, split as a shell splits it); `what` names it
    in the PlanError of a list that renders nothing (-h, --version)."""
    args = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
    _renders(args, what)
    try:
        options, _, inputs, dump_at, _ = _read(args)
    except NBError:
        return Job(args, {}, line=line)
    return Job(args, _outputs(options), inputs, line, **_fdump(options, dump_at))


def numbered(name, frame, width=DIGITS):
    """`name` with the frame number before its extension: intimage.img -> intimage_00001.img."""
    stem, ext = os.path.splitext(name)
    return "%s_%0*d%s" % (stem, width, frame, ext)


def _decimal(text, what):
    try:
        if not str(text).isascii():
            raise InvalidOperation
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


def _whole(text):
    """The whole number `text` writes in ASCII digits (an int as it is), or None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    text = str(text)
    return int(text) if text.isascii() and text.isdigit() else None


def _count(text, what):
    count = _whole(text)
    if count is None or not 1 <= count <= MAX_JOBS:
        raise PlanError(f"{what}: the count must be a whole number from 1 to {MAX_JOBS}, not '{text}'")
    return count


def _words(args):
    """An argument list (a string split as a shell splits it)."""
    return shlex.split(args) if isinstance(args, str) else [str(a) for a in args]


def _read_base(base, what):
    """_read, its NBError a PlanError naming `what`."""
    try:
        return _read(base)
    except NBError as err:
        raise PlanError(f"{what}: {err.message}") from None


def _series(base, count, seed, frame_args, what, one_nexus=False):
    """(jobs, options, flags fired, the -nexusfile name the frames share or None): the frames
    of a series, base + frame_args(i, misset_seed) + numbered output names (+ a noise seed
    where the base writes noise without one); with one_nexus, a -nexusfile of the base is
    taken out of the frames' arguments (their images go into that one file)."""
    base = _words(base)
    _renders(base, what)
    options, fired, inputs, dump_at, nexus_at = _read_base(base, what)
    shared = options.nexusfilename if one_nexus else None
    if shared is not None:
        drop = {k for j in nexus_at for k in (j, j + 1)}
        base = [word for k, word in enumerate(base) if k not in drop]
        options, fired, inputs, dump_at, _ = _read_base(base, what)
    count = _count(count, what)
    if _whole(seed) is None or _whole(seed) < 0:
        raise PlanError(f"{what}: --seed needs a whole number of at least 0, not '{seed}'")
    import numpy as np
    seeds = np.random.default_rng(_whole(seed)).integers(1, 2**31 - 1, size=(count, 2))
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
        jobs.append(Job(args + extra, outputs, inputs, frame=i, info=info, **_fdump(options, dump_at)))
    return jobs, options, fired, shared


def rotation_series(base, start, step, count, seed=DEFAULT_SEED, what="--rotation"):
    """Frames 1..count of a rotation series: frame i is `base -phi START+(i-1)*STEP -osc STEP`
    with numbered output names (see the module docstring for the names and seeds); with
    `-nexusfile NAME` in the base, the frames share one NeXus file NAME (Job.series).

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

    Raises
    ------
    PlanError
        Arguments the command refuses, a count or angle that is not one, -misset random
        without -misset_seed, or a -nexusfile the frames' geometry cannot go into (the
        command's -nexusfile refusals).
    """
    start, step = _decimal(start, what), _decimal(step, what)

    def frame(i, misset_seed):
        phi = _text(start + (i - 1) * step)
        return ["-phi", phi, "-osc", _text(step)], {"phi": phi}

    base = _words(base)
    jobs, options, fired, shared = _series(base, count, seed, frame, what, one_nexus=True)
    if options.misset[0] == -1 and "-misset_seed" not in fired:
        raise PlanError(f"{what}: -misset random needs -misset_seed in a rotation series "
                        "(each frame would draw its own orientation from the clock)")
    if shared is not None:
        line = ["nbnumba", *base, "--rotation", _text(start), _text(step), str(len(jobs)), "--seed", str(seed)]
        series = _nexus_series(shared, jobs, shlex.join(line), what)
        for j in jobs:
            j.series = series
    return jobs


def _nexus_series(name, jobs, command_line, what):
    """The Series of these frames' NeXus file: its geometry set up from the first frame's
    arguments and refused as the command refuses a -nexusfile (PlanError naming `what`)."""
    from nbnumba.cfuncs.stdio import atof
    from nbnumba.constants import RTD
    from nbnumba.output.datasets import series_geometry

    options = _read_base(jobs[0].args, what)[0]
    try:
        g = series_geometry(options)
    except NBError as err:
        raise PlanError(f"{what}: {err.message}") from None
    # each frame's phi_start as its run computes it: -phi's atof(text) / RTD, then Geometry's * RTD
    angles = tuple(float(atof(j.info["phi"]) / RTD * RTD) for j in jobs)
    return Series(name, angles, g.oscillation, (len(jobs), g.image_size[1], g.image_size[0]),
                  "noise" if options.calculate_noise else "int", options.nexus_compression, command_line)


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
    _renders(words, where)
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
    return [job(base, what=where)]


# one piece of a plan line as shlex.split(line, comments=True) reads it (POSIX mode: blanks are
# space, tab, CR, LF; a '#' starts a comment even inside a word)
_PIECE = re.compile(r"""
      (?P<plain>[^ \t\r\n'"\\\#]+)          # characters taken as they are
    | '(?P<single>[^']*)'                  # '...': every character as it is
    | "(?P<double>(?:[^"\\]|\\.)*)"        # "...": a backslash escapes \ and " only (_IN_DOUBLE)
    | \\(?P<escaped>.)                     # \x outside quotes: x
    | (?P<blank>[ \t\r\n]+)                 # ends a word
    | (?P<comment>\#)                      # ends the line
    | (?P<open>['"\\])                     # an unclosed quote, or a backslash at the end
    """, re.S | re.X)
_IN_DOUBLE = re.compile(r'\\([\\"])')
_OPEN_DOUBLE = re.compile(r'(?:[^"\\]|\\.)*(\\?)', re.S)      # the rest of an unclosed "...: a lone \ last?


def split_line(line):
    """The words of a plan line, as shlex.split(line, comments=True) gives them, in time
    linear in the line's length (shlex copies the word it builds at each character).  Raises
    ValueError as shlex does."""
    words, word, quoted = [], [], False
    for piece in _PIECE.finditer(line):
        kind = piece.lastgroup
        if kind in ("blank", "comment"):
            if word or quoted:
                words.append("".join(word))
            word, quoted = [], False
            if kind == "comment":
                return words
        elif kind == "open":
            mark = piece.group()
            lone = mark == "\\" or (mark == '"' and _OPEN_DOUBLE.fullmatch(line, piece.end()).group(1))
            raise ValueError("No escaped character" if lone else "No closing quotation")
        else:
            text = piece.group(kind)
            word.append(_IN_DOUBLE.sub(r"\1", text) if kind == "double" else text)
            quoted = quoted or kind in ("single", "double")
    if word or quoted:
        words.append("".join(word))
    return words


def decode_plan(data, source="plan"):
    """A plan file's bytes as text; PlanError for a plan too large or not UTF-8."""
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(f"{source} is larger than {MAX_PLAN_BYTES // 2**20} MiB; split it into batches")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise PlanError(f"{source} line {line} is not UTF-8 text (byte 0x{data[err.start]:02x}); a plan is UTF-8 "
                        "text") from None


def parse_plan(text, source="plan"):
    """The jobs of a plan's text, each with its line number; raises PlanError naming the
    line of a generator that cannot expand, a line longer than MAX_LINE characters or one
    that renders nothing, and for more than MAX_JOBS jobs.  Lines seen before are read once."""
    if len(text) > MAX_PLAN_BYTES:
        raise PlanError(f"{source} is larger than {MAX_PLAN_BYTES // 2**20} MiB; split it into batches")
    jobs, seen = [], {}
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{source} line {number}"
        if len(line) > MAX_LINE:
            raise PlanError(f"{where} is longer than {MAX_LINE} characters")
        if line in seen:
            expanded = _copies(seen[line])
        else:
            try:
                words = split_line(line)
            except ValueError as err:
                raise PlanError(f"{where}: {err}") from None
            expanded = seen[line] = _line_jobs(words, where) if words else []
        for j in expanded:
            j.line = number
        jobs += expanded
        if len(jobs) > MAX_JOBS:
            raise PlanError(f"{where}: the plan has more than {MAX_JOBS} jobs; split it into batches, each "
                            "with its own --outdir")
    return jobs


def _copies(jobs):
    """Copies of the jobs of a line read before, its series (if any) a series of its own."""
    series = {j.series: replace(j.series) for j in jobs if j.series is not None}
    return [replace(j, args=list(j.args), outputs=dict(j.outputs), info=dict(j.info), series=series.get(j.series))
            for j in jobs]


def _written(j):
    """(name, writer) of the files job j writes: its own (writer j), and its series' NeXus
    file (writer: the Series, which its frames share)."""
    files = [(name, j) for name in j.outputs.values()]
    if j.series is not None:
        files.append((j.series.name, j.series))
    return files


def _by(writer, j, source):
    """Who writes a file, for messages: job j ("... frame F"), or the series line j is a frame of."""
    return where(j, source) if writer is j else where(replace(j, frame=0), source)


def check_outputs(jobs, outdir, source="plan"):
    """Raise PlanError where two jobs (or series files) would write the same file, or a job
    would write the batch's own manifest.json or its lock (RESERVED)."""
    owner = {os.path.join(outdir, name): None for name in RESERVED}
    for j in jobs:
        for name, writer in _written(j):
            path = os.path.normpath(os.path.join(outdir, name))
            if path in owner and owner[path] is None:
                raise PlanError(f"{_by(writer, j, source)} writes {name}, the batch's own "
                                f"{os.path.basename(path)}: name the {'image' if writer is j else 'series file'} "
                                "otherwise")
            if path in owner and owner[path][0] is not writer:
                raise PlanError(f"{_by(*owner[path], source)} and {_by(writer, j, source)} both write {name}")
            owner.setdefault(path, (writer, j))


class _Paths:
    """Where names lead, links followed (os.path.realpath); each folder resolved once."""

    def __init__(self):
        self.known = {}

    def __call__(self, folder, name):
        real = self.known.get((folder, name))
        if real is None:
            path = os.path.join(folder, name)
            head, tail = os.path.split(path)
            if os.pardir in path or tail in ("", os.curdir):
                real = os.path.realpath(path)
            else:
                if head not in self.known:
                    self.known[head] = os.path.realpath(head)
                real = os.path.join(self.known[head], tail)
                real = os.path.realpath(real) if os.path.islink(real) else real
            self.known[folder, name] = real
        return real


def check_files(jobs, cwd, outdir, source="plan"):
    """Raise PlanError where a job reads a file another job of the batch writes (an image, or
    the Fdump cache a job with -hkl writes and a job without -hkl reads where it exists), and
    where a job's Fdump cache is another job's image: which ran first would decide an image.
    Jobs with -hkl may share a cache (each writes it whole; none reads it).  A job that reads
    an Fdump cache there before the batch gets its path and sha256 in `info` (fdump,
    fdump_sha256), for the manifest."""
    real = _Paths()
    files = []      # (reads, {path: its writer (the job, or its Series)}) of each job
    for j in jobs:
        reads = {real(cwd, j.args[i]) for i in j.inputs if j.args[i] and i != j.fdump_at}
        writes = {real(outdir, name): writer for name, writer in _written(j)}
        if j.fdump is not None:     # a -dump name is taken from cwd, the default Fdump.bin is in outdir
            dump = real(cwd if j.fdump_at is not None else outdir, j.fdump)
            if j.writes_fdump:
                writes[dump] = j
            else:
                reads.add(dump)
        files.append((reads, writes))
    image = {real(outdir, name): (writer, k) for k, j in enumerate(jobs) for name, writer in _written(j)}
    written = {path: (writer, k) for k, (_, writes) in enumerate(files) for path, writer in writes.items()}
    digests = {}
    for k, (j, (reads, writes)) in enumerate(zip(jobs, files)):
        for path, writer in sorted(writes.items()):
            if image.get(path, (writer,))[0] is not writer:
                (one, i), (other, k2) = sorted([image[path], (writer, k)], key=lambda who: who[1])
                raise PlanError(f"{_by(one, jobs[i], source)} and {_by(other, jobs[k2], source)} both write "
                                f"{_shown(path, cwd)}")
        for path in sorted(reads):
            if written.get(path, (j,))[0] is not j:
                other, i = written[path]
                raise PlanError(f"{where(j, source)} reads {_shown(path, cwd)}, which {_by(other, jobs[i], source)} "
                                "writes: its image would depend on which runs first (give each its own -dump, or run "
                                "them as two batches)")
        if j.fdump is not None and not j.writes_fdump:
            dump = real(cwd if j.fdump_at is not None else outdir, j.fdump)
            if dump not in digests:
                digests[dump] = _sha256(dump)
            if digests[dump] is not None:
                j.info.update(fdump=dump, fdump_sha256=digests[dump])


def _sha256(path):
    """The sha256 of a readable file (None if there is none)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(2**20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def _shown(path, cwd):
    """A path as a message shows it: relative to cwd when it lies below it."""
    rel = os.path.relpath(path, os.path.realpath(cwd))
    return path if rel.startswith(os.pardir) else rel


def where(j, source):
    """Where job j comes from, for messages: "PLAN line N frame F" (or "job ...")."""
    place = f"{source} line {j.line}" if j.line else "job"
    return f"{place} frame {j.frame}" if j.frame else place
