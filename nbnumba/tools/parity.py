"""When an output of the port matches the C's: the rules of tests/data/golden/README.md.

    float image   same size, finite, max|port-ref| / max|ref| <= 1e-6
    SMV image     header bytes identical, pixel values equal in >= 99.99% of pixels (noise: 99.9%)
    PGM           bytes equal in >= 99.99%
    other files   byte-identical (Fdump.bin, ...)
    stdout        every summary line of the reference appears word for word (check_stdout);
                  `nbnumba compare` asks for every line the port must reproduce (stdout_lines)

`nbnumba compare` applies them to every file both programs wrote and to their stdout; the
test suite applies them to the reference cases. Each `*_details` function measures, each
`check_*` function returns the list of broken rules (empty: the output passes).
"""
import re
from collections import Counter

import numpy as np

FLOAT_TOL = 1e-6          # max|port-ref| / max|ref|
SMV_EQUAL = 0.9999        # fraction of equal pixels in an SMV image
SMV_NOISE_EQUAL = 0.999   # ... in the noise image
PGM_EQUAL = 0.9999        # fraction of equal bytes in a PGM

# The reference's stdout lines (stripped) that start with one of these must appear in the port's.
KEY_LINES = ("max_I = ", "mean= ", "intfile_scale = ", "pgm_scale = ", "Unit Cell: ", "Recp Cell: ",
             "volume = ", "Xbeam=", "Fbeam=", "Xclose=", "Fclose=", "dials origin=", "distance=",
             "incident fluence:", "random orientation misset angles:", "created a total of",
             "initialized hkls", "auto-selected", "pivoting detector around", "convention selected.")
# Lines of the reference's stdout a port need not print (those tests/data/golden/*/stdout.txt
# leave out): the C's pointer after mapping an -img/-mask file (`mmap(header.img) = 0x...`),
# an address nbnumba leaves out, and the progress meter (`N% done`), which the C's OpenMP
# build prints in its threads' order ...
UNREPRODUCED = re.compile(r"mmap\(.*\) = |\d+% done$")
# ... and, with the noise seeded from the clock (no -seed), the C's `seed:` line and the noise
# image's photon count, which differ between two runs in different seconds.
CLOCK_SEEDED = re.compile(r"seed: |\S+ photons on noise image \(")


def smv_split(data):
    """(header bytes, uint16 pixels) of an SMV image; the header length is its HEADER_BYTES."""
    head = data[:4096].decode("latin-1")
    m = re.search(r"HEADER_BYTES=\s*(\d+)", head)
    size = int(m.group(1)) if m else 512
    body = data[size:]
    return data[:size], np.frombuffer(body[:len(body) // 2 * 2], dtype="<u2")


def is_smv(data):
    return data[:1] == b"{" and b"HEADER_BYTES" in data[:1024]


def smv_details(ref, got):
    """Header equality and pixel agreement of two SMV images."""
    hr, pr = smv_split(ref)
    hg, pg = smv_split(got)
    out = {"header_equal": hr == hg, "pixels_c": int(pr.size), "pixels_py": int(pg.size)}
    if pr.size == pg.size:
        diff = np.abs(pg.astype(np.int64) - pr.astype(np.int64))
        out.update(n_equal=int(np.sum(diff == 0)), equal_fraction=float(np.mean(diff == 0)) if pr.size else 1.0,
                   max_abs_diff=int(diff.max()) if pr.size else 0)
    return out


def smv_problems(details, need):
    problems = [] if details["header_equal"] else ["SMV header differs"]
    if details["pixels_c"] != details["pixels_py"]:
        return problems + [f"{details['pixels_py']} pixels, reference has {details['pixels_c']}"]
    if details["equal_fraction"] < need:
        problems.append(f"equal pixels {details['equal_fraction']:.6f} < {need}")
    return problems


def check_smv(ref, got, need):
    return smv_problems(smv_details(ref, got), need)


def bytes_details(ref, got):
    """Sizes and the fraction of equal bytes (when the sizes agree)."""
    out = {"bytes_c": len(ref), "bytes_py": len(got), "identical": ref == got}
    if len(ref) == len(got):
        equal = np.frombuffer(ref, np.uint8) == np.frombuffer(got, np.uint8)
        out.update(n_equal=int(equal.sum()), equal_fraction=float(equal.mean()) if ref else 1.0)
    return out


def pgm_problems(details):
    if details["bytes_c"] != details["bytes_py"]:
        return [f"{details['bytes_py']} bytes, reference has {details['bytes_c']}"]
    return [] if details["equal_fraction"] >= PGM_EQUAL else [f"equal bytes {details['equal_fraction']:.6f} < {PGM_EQUAL}"]


def check_pgm(ref, got):
    return pgm_problems(bytes_details(ref, got))


def _words(line):
    return " ".join(line.split())


def summary_lines(text):
    """The reference's summary lines of a stdout (whitespace-normalised), in order."""
    return [_words(l) for l in text.splitlines() if l.strip().startswith(KEY_LINES)]


def stdout_lines(text, clock_seeded=False):
    """(checked, skipped): every line of the reference's stdout (whitespace-normalised, in
    order) that a port must print too, and those it need not (UNREPRODUCED, and CLOCK_SEEDED
    when the noise is seeded from the clock): the summary, the cell-vector and geometry blocks
    and the file lines alike."""
    checked, skipped = [], []
    for line in map(_words, text.splitlines()):
        exempt = UNREPRODUCED.match(line) or (clock_seeded and CLOCK_SEEDED.match(line))
        (skipped if exempt else checked).append(line)
    return checked, skipped


def missing_lines(wanted, got_text):
    """The lines of `wanted` that got_text (whitespace-normalised) lacks, in wanted's order; a
    line wanted n times must be there n times."""
    have = Counter(_words(l) for l in got_text.splitlines())
    missing = []
    for line in wanted:
        if have[line]:
            have[line] -= 1
        else:
            missing.append(line)
    return missing


def check_stdout(ref_text, got_text):
    """The golden rule: every summary line of the reference appears in got_text."""
    return [f"missing stdout line {w!r}" for w in missing_lines(summary_lines(ref_text), got_text)]
