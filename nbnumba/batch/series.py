"""The NeXus file of a rotation series (plan.Series): one NXmx file of all its frames, written
by the batch's own process as the frames' images come back from wherever they rendered.

The workers send arrays (worker.run's "image", an output.datasets.NexusImage); one `Writer`
writes them, in the order they complete.  The first frame to arrive makes the file (its
geometry, mask and pedestal go into it: the frames share them, only phi differs) under a
temporary name that is then renamed into place; each frame is then written into its place
(io.nexus.write_frame: the image, then its flag in /entry/nbnumba/frame_written, flushed
after each), so the file on disk is a whole NXmx file whenever the batch stops: an
interrupt closes it properly, and the manifest lists the frames still pending.  Frames not
written read 0 and are flagged 0.

`--resume` reopens the file and continues it when it is the same series (the same shape,
angles, oscillation, data image and plan line): the frames it flags are skipped where the
manifest lists them complete, the others rendered and written.  A file that is not this
series is rebuilt, every frame rendered again (a note says so).  Without `--resume` the
first frame replaces any file of that name.

h5py (the `nexus` extra) is imported where a file is opened; plan time refused a series
without it.
"""
import os
import secrets

import numpy as np

from nbnumba import interrupt


class SeriesError(Exception):
    """A frame that could not be written into its series file: one line."""


def _same(held, series):
    """Whether a file's io.nexus.read_series `held` is the series'."""
    return (tuple(held["shape"]) == tuple(series.shape) and held["dtype"] == np.uint16
            and np.array_equal(held["angles"], series.angles) and held["kind"] == series.kind
            and np.array_equal(held["increments"], np.full(len(series.angles), series.oscillation))
            and held["command_line"] == series.command_line)


class Writer:
    """The series files of a batch's jobs in `outdir`, open while the batch runs (close() closes
    them).

    Parameters
    ----------
    outdir : str
        The output folder (absolute).
    jobs : list of plan.Job
        The batch's jobs; those with a `series` are its frames.
    resume : bool
        Reopen the files there and continue them (see the module docstring).
    note : callable
        note(text) says that a file is rebuilt.
    """

    def __init__(self, outdir, jobs, resume, note):
        self.outdir = outdir
        self.note = note
        self.files = {}         # Series -> its open h5py.File
        self.written = {}       # Series -> bool per frame: whether the file holds it
        if resume:
            for series in dict.fromkeys(j.series for j in jobs if j.series is not None):
                self._reopen(series)

    def path(self, series):
        """The series file's path."""
        return os.path.join(self.outdir, series.name)

    def _reopen(self, series):
        from nbnumba.io.nexus import read_series, require_h5py

        path = self.path(series)
        if not os.path.isfile(path):
            return
        h5py, _ = require_h5py("-nexusfile", series.compression)
        try:
            with h5py.File(path, "r") as h5:       # opened to write only when a frame comes
                held = read_series(h5)
        except OSError as err:
            self.note("%s cannot be continued (%s): it is written again, every frame" % (series.name, err))
            return
        if held is None or not _same(held, series):
            self.note("%s is not this series (its shape, angles or plan line differ): it is written again, every "
                      "frame" % series.name)
            return
        self.written[series] = held["written"]

    def holds(self, job):
        """Whether the job's frame is in its series file (True for a job without one)."""
        written = self.written.get(job.series)
        return job.series is None or (written is not None and bool(written[job.frame - 1]))

    def write(self, job, image):
        """Write a frame's image (a NexusImage) into its series file, made at the first.

        Raises
        ------
        SeriesError
            The image is not the series' (shape, kind) or the file cannot be written.
        """
        series = job.series
        if image.pixels.shape != tuple(series.shape[1:]) or image.kind != series.kind:
            raise SeriesError("nbnumba batch: frame %d's %s image is %s pixels, not the %s image of %s pixels %s "
                              "holds" % (job.frame, image.kind, "x".join(map(str, image.pixels.shape)), series.kind,
                                         "x".join(map(str, series.shape[1:])), series.name))
        from nbnumba.io.nexus import write_frame
        try:
            with interrupt.deferred():      # a frame is written whole, or not at all
                h5 = self._open(series, image)
                write_frame(h5, job.frame - 1, image.pixels)
        except Exception as err:        # h5py's OSError, a full disk, a folder that is not there
            raise SeriesError("nbnumba batch: cannot write frame %d into %s: %s" % (job.frame, self.path(series),
                                                                                    err)) from None
        self.written[series][job.frame - 1] = True

    def _open(self, series, image):
        """The series' file, open to write: as it is, reopened (one --resume continues), or new."""
        if series not in self.files:
            if series in self.written:
                from nbnumba.io.nexus import require_h5py
                h5py, _ = require_h5py("-nexusfile", series.compression)
                self.files[series] = h5py.File(self.path(series), "r+")
            else:
                self._create(series, image)
        return self.files[series]

    def _create(self, series, image):
        """A new series file (the images not yet written), renamed into place once made."""
        from nbnumba.io.nexus import create_series, require_h5py
        from nbnumba.output.datasets import nexus_fields

        h5py, plugin = require_h5py("-nexusfile", series.compression)
        path = self.path(series)
        folder, name = os.path.split(path)
        temporary = os.path.join(folder, ".%s.%s.tmp" % (name, secrets.token_hex(4)))     # io/outfile.py's names
        h5 = h5py.File(temporary, "w-")
        try:
            create_series(h5, plugin, image.geometry, series.shape, np.uint16, series.angles,
                          compression=series.compression, **nexus_fields(image, series.command_line))
            os.replace(temporary, path)
        except BaseException:
            h5.close()
            os.unlink(temporary)
            raise
        self.files[series], self.written[series] = h5, np.zeros(series.shape[0], dtype=bool)

    def close(self):
        """Close every file (whole: a signal waits)."""
        with interrupt.deferred():
            files, self.files = self.files, {}
            for h5 in files.values():
                h5.close()
