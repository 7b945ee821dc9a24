"""Output files end up where and as nanoBragg.c's `fopen(path, "wb")` leaves them (same path,
links followed, permissions respected and kept), and never half-written (nbnumba/io/outfile.py).

What the C does was observed with the serial build (/tmp/ref/nb, commit 455534a) running
oddenv.SMALL as an unprivileged user:

  write-protected floatimage.bin   stderr "ERROR: fopen: Permission denied", exit 9, file kept
  write-protected intimage.img     floatimage.bin written, then the same error, exit 9
                                   (nbnumba refuses with no file touched, docs/quirks.md)
  0600 floatimage.bin              rewritten, still 0600 and the same owner, exit 0
  symlink to a file                the link kept, its target rewritten, exit 0
  dangling symlink                 its target created (0666 less the umask), exit 0
  hard link                        both names still one file, with the new bytes, exit 0
  read-only folder, files there    every file rewritten, exit 0
  read-only folder, a file missing files up to it written, "ERROR: fopen: Permission denied", exit 9
                                   (nbnumba: none written)
  intimage.img is a folder         floatimage.bin written, "ERROR: fopen: Is a directory", exit 9
                                   (nbnumba: none written)
  -floatfile "" / -floatfile x/    "ERROR: fopen: No such file or directory" / "... Is a directory", exit 9
  write-protected Fdump.bin        stdout "WARNING: unable to open dump file: Fdump.bin", exit 0
  full disk                        the file truncated, exit 0 (nbnumba refuses, docs/quirks.md)
  full disk, old files of new size rewritten in place, exit 0

nbnumba's error lines name the file ("ERROR: unable to write NAME: REASON").  Permission
cases run through oddenv.unprivileged() (root ignores permission bits).
"""
import os
import stat
from pathlib import Path

import pytest

from golden import INPUTS
from nbnumba.errors import NBError
from nbnumba.io.outfile import write_output
from oddenv import (DEVICE_LINE, OUTPUTS, SMALL, SMALL_SHA256, hidden_temporaries, run, sha256, small_fs,
                    stderr_lines, unprivileged, with_mounts)

OLD = b"old\n"


def umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def assert_written(folder, names=OUTPUTS):
    for name in names:
        assert sha256(Path(folder) / name) == SMALL_SHA256[name], name


def assert_clean(folder):
    assert hidden_temporaries(folder) == []


# ---------------------------------------------------------------- permissions (unprivileged)

@pytest.mark.parametrize("name", ["floatimage.bin", "intimage.img"])
def test_write_protected_output_is_refused_and_kept(tmp_path, name):
    """A refused run touches no file: not even the images before the refused one (the C has
    written floatimage.bin when it refuses intimage.img; docs/quirks.md)."""
    target = tmp_path / name
    target.write_bytes(OLD)
    target.chmod(0o444)
    p = run(SMALL, tmp_path, unprivileged())
    assert p.returncode == 9
    assert stderr_lines(p.stderr) == [f"ERROR: unable to write {name}: Permission denied"]
    assert target.read_bytes() == OLD and stat.S_IMODE(target.stat().st_mode) == 0o444
    assert sorted(x.name for x in tmp_path.iterdir()) == [name]


def test_read_only_folder_with_writable_outputs(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    for name in OUTPUTS:
        (folder / name).write_bytes(OLD)
    folder.chmod(0o555)
    try:
        p = run(SMALL, folder, unprivileged())
        assert p.returncode == 0, p.stderr
        assert p.stderr.splitlines() == [DEVICE_LINE]
        assert_written(folder)
        assert sorted(x.name for x in folder.iterdir()) == sorted(OUTPUTS)
    finally:
        folder.chmod(0o755)


def test_read_only_folder_refuses_a_new_file(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    for name in ("floatimage.bin", "intimage.img"):
        (folder / name).write_bytes(OLD)
    folder.chmod(0o555)
    try:
        p = run(SMALL, folder, unprivileged())
        assert p.returncode == 9
        assert stderr_lines(p.stderr) == ["ERROR: unable to write image.pgm: Permission denied"]
        assert p.stdout.endswith("writing image.pgm as 1-byte integers\n")
        assert sorted(x.name for x in folder.iterdir()) == ["floatimage.bin", "intimage.img"]
        for name in ("floatimage.bin", "intimage.img"):     # reserved to be written in place, then given back
            assert (folder / name).read_bytes() == OLD, name
    finally:
        folder.chmod(0o755)


def test_write_protected_fdump_warns_as_the_c(tmp_path):
    (tmp_path / "cubic.hkl").write_bytes((INPUTS / "cubic.hkl").read_bytes())
    fdump = tmp_path / "Fdump.bin"
    fdump.write_bytes(OLD)
    fdump.chmod(0o444)
    args = ["-hkl", "cubic.hkl"] + SMALL[2:]        # SMALL less its -default_F
    p = run(args, tmp_path, unprivileged())
    assert p.returncode == 0, p.stderr
    assert "WARNING: unable to open dump file: Fdump.bin" in p.stdout.splitlines()
    assert fdump.read_bytes() == OLD
    assert_clean(tmp_path)


# ---------------------------------------------------------------- file identity

def test_mode_and_owner_are_kept(tmp_path):
    target = tmp_path / "floatimage.bin"
    target.write_bytes(OLD)
    target.chmod(0o600)
    owner = (65534, 65534) if os.geteuid() == 0 else (os.geteuid(), os.getegid())
    os.chown(target, *owner)
    p = run(SMALL, tmp_path)
    assert p.returncode == 0, p.stderr
    st = target.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600 and (st.st_uid, st.st_gid) == owner
    assert_written(tmp_path)
    new = stat.S_IMODE((tmp_path / "intimage.img").stat().st_mode)
    assert new == 0o666 & ~umask()
    assert_clean(tmp_path)


def test_symlinks_are_followed(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "target.bin").write_bytes(OLD)
    (tmp_path / "floatimage.bin").symlink_to("real/target.bin")
    (tmp_path / "intimage.img").symlink_to("real/missing.img")        # dangling: fopen creates it
    p = run(SMALL, tmp_path)
    assert p.returncode == 0, p.stderr
    assert os.readlink(tmp_path / "floatimage.bin") == "real/target.bin"
    assert os.readlink(tmp_path / "intimage.img") == "real/missing.img"
    assert sha256(real / "target.bin") == SMALL_SHA256["floatimage.bin"]
    assert sha256(real / "missing.img") == SMALL_SHA256["intimage.img"]
    assert stat.S_IMODE((real / "missing.img").stat().st_mode) == 0o666 & ~umask()
    assert sorted(x.name for x in real.iterdir()) == ["missing.img", "target.bin"]
    assert_clean(tmp_path)


def test_hard_links_stay_one_file(tmp_path):
    (tmp_path / "floatimage.bin").write_bytes(OLD)
    os.link(tmp_path / "floatimage.bin", tmp_path / "other.bin")
    inode = (tmp_path / "floatimage.bin").stat().st_ino
    p = run(SMALL, tmp_path)
    assert p.returncode == 0, p.stderr
    st = (tmp_path / "other.bin").stat()
    assert (st.st_ino, st.st_nlink) == (inode, 2)
    assert sha256(tmp_path / "other.bin") == SMALL_SHA256["floatimage.bin"]
    assert_written(tmp_path)
    assert_clean(tmp_path)


def test_folder_in_place_of_an_output(tmp_path):
    (tmp_path / "intimage.img").mkdir()
    p = run(SMALL, tmp_path)
    assert p.returncode == 9
    assert stderr_lines(p.stderr) == ["ERROR: unable to write intimage.img: Is a directory"]
    assert (tmp_path / "intimage.img").is_dir()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["intimage.img"]      # the refusal wrote nothing


@pytest.mark.parametrize("name, reason", [("", "No such file or directory"), ("x/", "Is a directory")],
                         ids=["empty", "slash"])
def test_names_fopen_cannot_create(tmp_path, name, reason):
    """The C: "ERROR: fopen: No such file or directory" / "... Is a directory", exit 9."""
    p = run(SMALL + ["-floatfile", name], tmp_path)
    assert p.returncode == 9
    assert stderr_lines(p.stderr) == [f"ERROR: unable to write {name}: {reason}"]
    assert list(tmp_path.iterdir()) == []
    assert [n for n in os.listdir(tmp_path.parent) if n.endswith(".tmp")] == []     # nor beside it


def test_device_output_is_written_in_place(tmp_path):
    p = run(SMALL + ["-floatfile", "/dev/null"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["image.pgm", "intimage.img", "noiseimage.img"]


def test_bind_mounted_output_is_written_in_place(tmp_path):
    """An output that is a bind mount (a container's single-file volume) cannot be renamed
    over (EBUSY): it is written in place, as the C writes it."""
    volume = tmp_path / "volume.bin"
    volume.write_bytes(OLD)
    (tmp_path / "floatimage.bin").write_bytes(OLD)
    p = run(SMALL, tmp_path, with_mounts('mount --bind "$1" "$2"', volume, tmp_path / "floatimage.bin"))
    assert p.returncode == 0, p.stderr
    assert sha256(volume) == SMALL_SHA256["floatimage.bin"]
    assert (tmp_path / "floatimage.bin").read_bytes() == OLD       # under the mount, untouched
    assert_clean(tmp_path)


# ---------------------------------------------------------------- full disk (a small tmpfs)

# SMALL at 1024x1024 pixels: a 4 MB float image, 2 MB SMV images, a 1 MB PGM
LARGE = SMALL[:-6] + ["-detpixels", "1024", "-pixel", "0.1", "-seed", "1"]


def on_small_disk(tmp_path, size, before, after):
    """Run LARGE in the folder DISK of a tmpfs of `size` bytes, after the shell commands
    `before` (there), then `after`, which save what is to be seen in $SEEN: (the process,
    the folder SEEN, where rc, stderr and what `after` saved are)."""
    disk, seen = tmp_path / "disk", tmp_path / "seen"
    disk.mkdir()
    seen.mkdir()
    script = ('cd "$DISK" && ' + before + '"$@" > "$SEEN/stdout" 2> "$SEEN/stderr"; echo $? > "$SEEN/rc"; ' + after)
    p = run(LARGE, tmp_path, (*small_fs(disk, size), "sh", "-c", script, "sh"), DISK=str(disk), SEEN=str(seen))
    assert p.returncode == 0, p.stderr
    return p, seen


@pytest.mark.parametrize("hard_link", [False, True], ids=["renamed", "in_place"])
def test_full_disk_refuses_and_keeps_the_old_file(tmp_path, hard_link):
    """The 4 MB float image does not fit: the C truncates floatimage.bin and exits 0;
    nbnumba refuses, the old file intact (a temporary file renamed over it, or, for a hard
    link, the space reserved before the file is touched)."""
    link = 'ln floatimage.bin other.bin && ' if hard_link else ''
    _, seen = on_small_disk(tmp_path, 1 << 20, 'printf "old\\n" > floatimage.bin && ' + link, 'cp -a . "$SEEN/files"')
    assert (seen / "rc").read_text() == "9\n"
    assert stderr_lines((seen / "stderr").read_text()) == [
        "ERROR: unable to write floatimage.bin: No space left on device"]
    names = ["floatimage.bin"] + (["other.bin"] if hard_link else [])
    assert sorted(x.name for x in (seen / "files").iterdir()) == names
    for name in names:
        assert (seen / "files" / name).read_bytes() == OLD


def test_full_disk_midway_writes_nothing(tmp_path):
    """Room for the float image but not the int image: the C writes floatimage.bin, truncates
    intimage.img and exits 0; nbnumba refuses with one line and leaves the folder as it was
    (every file of a run is prepared before any is put in place)."""
    _, seen = on_small_disk(tmp_path, 5 << 20, "", 'ls -A > "$SEEN/listing"')
    assert (seen / "rc").read_text() == "9\n"
    assert stderr_lines((seen / "stderr").read_text()) == [
        "ERROR: unable to write intimage.img: No space left on device"]
    assert (seen / "listing").read_text() == ""


# the C's images for SMALL at -detpixels 1024 (stdout: "writing floatimage.bin as 1048576 4-byte floats")
LARGE_SHA256 = {
    "floatimage.bin": (4194304, "ecec0d4ddeef51652de4326be03edb4d331c1e5d5f6510d553297ff53ffb5bd4"),
    "intimage.img": (2097664, "1d8cc1c8ad9859cd8a0443a94171555f4622b74af1ba566ea854aff07e2f516e"),
    "image.pgm": (1048620, "4f4608ea451f013500835fba49a6c5d2ee27fdc30d6f7b0927a21cef6ffd516f"),
    "noiseimage.img": (2097664, "c50392e7b9fcaca6c324ff6d8fe04e715c09203d076289fa3367c5d7bb6be118"),
}


def test_full_disk_rewrites_outputs_that_fit(tmp_path):
    """Old outputs of the new sizes on a disk with no room left: the C rewrites them in place
    (exit 0); so does nbnumba, with no room for a temporary copy."""
    make = " && ".join('head -c %d /dev/zero | tr "\\0" U > %s' % (size, name)
                       for name, (size, _) in LARGE_SHA256.items())
    fill = ' && { dd if=/dev/zero of=filler bs=4096 2>/dev/null || true; } && '
    _, seen = on_small_disk(tmp_path, 12 << 20, make + fill,
                            'for f in *; do [ "$f" = filler ] || cp "$f" "$SEEN/"; done; ls -A > "$SEEN/listing"')
    assert (seen / "rc").read_text() == "0\n", (seen / "stderr").read_text()
    assert stderr_lines((seen / "stderr").read_text()) == []
    assert (seen / "listing").read_text().split() == sorted(["filler", *LARGE_SHA256])
    for name, (size, digest) in LARGE_SHA256.items():
        assert sha256(seen / name) == digest, name


# ---------------------------------------------------------------- write_output itself

def test_write_output_failure_leaves_nothing(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(OLD)

    def chunks():
        yield b"new"
        raise OSError(28, "No space left on device")

    with pytest.raises(NBError) as err:
        write_output(target, chunks())
    assert err.value.message == f"ERROR: unable to write {target}: No space left on device"
    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == ["out.bin"]

    with pytest.raises(NBError) as err:
        write_output(tmp_path / "missing_dir" / "x.bin", [b"data"])
    assert err.value.message == f"ERROR: unable to write {tmp_path / 'missing_dir' / 'x.bin'}: No such file or directory"


def test_extended_attributes_keep_the_inode(tmp_path):
    """A file with extended attributes (ACLs, labels) is overwritten in place, attributes kept."""
    target = tmp_path / "out.bin"
    target.write_bytes(OLD * 10)
    try:
        os.setxattr(target, "user.nbnumba", b"kept")
    except (OSError, AttributeError):
        pytest.skip("no user extended attributes on this file system")
    inode = target.stat().st_ino
    write_output(target, [b"new", b"er"])
    assert target.read_bytes() == b"newer"
    assert target.stat().st_ino == inode
    assert os.getxattr(target, "user.nbnumba") == b"kept"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_single_link_file_is_replaced_whole(tmp_path):
    """A plain file gets a new inode (renamed into place): a reader that holds the old one
    open never sees a mixture."""
    target = tmp_path / "out.bin"
    target.write_bytes(OLD)
    with open(target, "rb") as held:
        write_output(target, [b"new"])
        assert held.read() == OLD
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["out.bin"]
