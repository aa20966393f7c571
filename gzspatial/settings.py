"""Tunable thresholds of gzspatial, in one place (units in each name or comment).

Plain constants, no imports: importing this module is free, so the CLI can use the defaults
without loading the engine. Modules read them from here; tests may patch a module's own name.
"""

from __future__ import annotations

#: Half-width of the innovation-axis corridor, km: a site this close to the axis is "on the axis".
DEFAULT_CORRIDOR_KM: float = 2.0

#: Containment grid cell, degrees (about 50 m in Guangzhou): cells free of boundaries answer alone.
GRID_CELL_DEG: float = 0.0005
#: Distance index cell, metres: each lists the outline segments that can be nearest inside it.
DISTANCE_CELL_M: float = 1000.0
#: Lattice of points projected by PROJ to metres, degrees: between them metres are interpolated (cubic).
LATTICE_STEP_DEG: float = 0.01
#: From this many points on, containment uses the grid and distances the compiled kernels.
FAST_MIN_POINTS: int = 50_000
#: From this many points on, GCJ-02/BD-09 conversions run through the compiled (numba) kernels.
COMPILED_MIN_POINTS: int = 50_000

#: CSV bytes per batch when the join streams a file (~100k rows): memory stays flat.
CSV_BLOCK_BYTES: int = 8 << 20
#: CSV bytes per batch when stats reads only its columns.
STATS_BLOCK_BYTES: int = 32 << 20

#: Above this many points a web map shows aggregated density instead of one marker per point.
MARKER_LIMIT: int = 200_000
#: Cell of that aggregation grid, degrees (about 500 m).
AGGREGATE_CELL_DEG: float = 0.005
#: Web-map node labels appear from this zoom level on.
NODE_LABEL_MIN_ZOOM: int = 12
#: Largest print map drawn, pixels (width x height x dpi²).
MAX_PIXELS: int = 250_000_000
