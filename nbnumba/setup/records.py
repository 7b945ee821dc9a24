"""How a set-up stage works: on a local namespace (the C's variables it reads, copied from
the records it is given; vectors as writable copies, since the C's code updates them in
place), then returns a frozen record of what it computed.  No stage changes another's record."""
import types
from dataclasses import dataclass, fields

import numpy as np

from nbnumba.args.options import frozen


def workspace(*sources, **values):
    """A namespace with every field of the given records (later ones win), then `values`;
    arrays copied writable."""
    ns = types.SimpleNamespace()
    for record in sources:
        for f in fields(record):
            value = getattr(record, f.name)
            setattr(ns, f.name, np.array(value) if isinstance(value, np.ndarray) else value)
    for name, value in values.items():
        setattr(ns, name, np.array(value) if isinstance(value, np.ndarray) else value)
    return ns


def record(cls, ns, **values):
    """An instance of the frozen dataclass `cls` from the namespace's fields (and `values`),
    arrays frozen read-only."""
    data = {f.name: values[f.name] if f.name in values else getattr(ns, f.name) for f in fields(cls)}
    return cls(**{k: frozen(v) if isinstance(v, np.ndarray) else v for k, v in data.items()})


@dataclass(frozen=True, eq=False)
class Setup:
    """Every set-up stage's record (simulation.Simulation.setup runs the stages in the C's
    order): the command line, the oriented detector and its mask, the exposure, the steps,
    the crystal, its structure factors, the sources, the mosaic domains and the sampling."""
    options: "args.options.Options"
    detector: "setup.detector.Detector"
    mask: "np.ndarray | None"
    exposure: "setup.sources.Exposure"
    steps: "setup.steps.Steps"
    crystal: "setup.crystal.Crystal"
    structure_factors: "setup.structure_factors.StructureFactors"
    sources: "setup.sources.Sources"
    mosaic: "setup.mosaic.Mosaic"
    sampling: "setup.steps.Sampling"
