"""Many images: rotation series, orientation ensembles and plans of nbnumba runs, on this
machine or a Dask cluster (`nbnumba batch`, and the same from Python).

    from nbnumba.batch import render, rotation_series
    base = "-default_F 100 -cell 100 100 100 90 90 90 -lambda 6.2 -N 5 -detpixels 256 -seed 1"
    results = render(rotation_series(base, start=0, step=0.5, count=100), outdir="frames")
    results[0].paths["int"]         # frames/intimage_00001.img
    results[0].geometry             # Result.geometry of frame 1 (DIALS's frame)
    images = render(["-default_F 100 -N 5 -detpixels 64 -phi %d" % p for p in range(3)])
    images[2].arrays["float"]       # float32 (64, 64): nothing written

- plan.py: plans (one job per line), the generators, the jobs' output names;
- execute.py: `render` (this process, worker processes here, or a Dask client);
- cluster.py: the worker processes here (TLS on 127.0.0.1, no HTTP; docs/security.md);
- worker.py: one job in the process that renders it (kept warm between jobs);
- series.py: a rotation series' one NeXus file (-nexusfile), written here as frames complete;
- manifest.py: manifest.json and what `--resume` skips;
- command.py: the `nbnumba batch` command, its progress bar and summary.

Dask (`dask[distributed]` and `cryptography`, the `batch` extra) is imported only where jobs go
to worker processes; `import nbnumba.batch` loads neither Dask nor Numba.
"""
from nbnumba.batch.execute import JobResult, render
from nbnumba.batch.plan import Job, PlanError, parse_plan, random_orientations, rotation_series

__all__ = ["render", "JobResult", "Job", "rotation_series", "random_orientations", "parse_plan", "PlanError"]
