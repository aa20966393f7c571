"""A raster index that answers point-in-polygon for most points without a geometry test.

Cells (``CELL_DEG`` degrees) that no polygon boundary touches are grouped into connected regions;
every point in a region lies in exactly the same polygons, so one exact test per region answers
all of them. Points in cells a boundary touches get the exact GEOS test. The result therefore
equals ``intersects`` on every point; the grid only decides where the test is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import shapely

from gzspatial.settings import GRID_CELL_DEG as CELL_DEG

# Boundary cells are widened by this many cells: a boundary vertex's cell is found by floor(),
# which can be off by one at a cell edge, and a segment no longer than a cell crosses only cells
# next to its end points; two cells of margin cover both.
MARGIN_CELLS = 2


@dataclass(frozen=True)
class Grid:
    """Region label per cell (0 = a boundary is near: test exactly) and the grid's placement.

    Cell (iy, ix) holds the points with floor((lon - x0) / CELL_DEG) == ix (and likewise lat).
    """

    x0: float
    y0: float
    nx: int
    ny: int
    labels: np.ndarray  # (ny, nx) int32
    representatives: np.ndarray  # (n_labels + 1,) shapely points, index 0 unused


def build_grid(polygons: np.ndarray) -> Grid:
    """Grid over the bounds of ``polygons`` (WGS84), padded so every polygon is strictly inside."""
    from scipy import ndimage

    minx, miny, maxx, maxy = shapely.total_bounds(polygons)
    pad = (MARGIN_CELLS + 2) * CELL_DEG
    x0, y0 = minx - pad, miny - pad
    nx = int(np.ceil((maxx + pad - x0) / CELL_DEG))
    ny = int(np.ceil((maxy + pad - y0) / CELL_DEG))
    near_boundary = np.zeros((ny, nx), dtype=bool)
    boundary = shapely.segmentize(shapely.boundary(polygons), CELL_DEG)
    xy = shapely.get_coordinates(boundary)
    ix = np.floor((xy[:, 0] - x0) / CELL_DEG).astype(np.int64)
    iy = np.floor((xy[:, 1] - y0) / CELL_DEG).astype(np.int64)
    near_boundary[iy, ix] = True
    # MARGIN_CELLS dilations by a 3 x 3 square = one by a (2 MARGIN_CELLS + 1) square, separable
    # into a pass along each axis (cheaper than binary_dilation on millions of cells)
    size = 2 * MARGIN_CELLS + 1
    widened = ndimage.maximum_filter1d(near_boundary.view(np.uint8), size, axis=0, mode="constant")
    near_boundary = ndimage.maximum_filter1d(widened, size, axis=1, mode="constant").view(bool)
    labels, count = ndimage.label(~near_boundary)  # 4-connected regions free of boundaries
    # One cell centre per region represents it: its first cell in raster order (the first of
    # its top row), found from each region's bounding box instead of sorting every cell.
    rep_y, rep_x = np.zeros(count + 1, dtype=np.int64), np.zeros(count + 1, dtype=np.int64)
    for label, (rows, cols) in enumerate(ndimage.find_objects(labels), start=1):
        rep_y[label] = rows.start
        rep_x[label] = cols.start + int(np.argmax(labels[rows.start, cols] == label))
    representatives = shapely.points(x0 + (rep_x + 0.5) * CELL_DEG, y0 + (rep_y + 0.5) * CELL_DEG)
    return Grid(x0, y0, nx, ny, labels.astype(np.int32), representatives)


#: Cells per side of a block of the two-level class grid (BlockedClasses).
BLOCK = 8


@dataclass(frozen=True)
class BlockedClasses:
    """The cells' classes in two levels, ~10x smaller than the (ny, nx) array, so that random
    points find theirs in cache: per block of BLOCK x BLOCK cells, its class when every cell of it
    has that class (>= 0), else -1 - its row in ``blocks`` (the class of each of its cells)."""

    ny: int
    nx: int
    block: int
    coarse: np.ndarray  # (ceil(ny / block), ceil(nx / block)) int32
    blocks: np.ndarray  # (mixed blocks, block * block), the classes' dtype

    @classmethod
    def of(cls, classes: np.ndarray, block: int = BLOCK) -> BlockedClasses:
        ny, nx = classes.shape
        py, px = -ny % block, -nx % block
        padded = np.pad(classes, ((0, py), (0, px)))  # never read: lookups check (ny, nx) first
        by, bx = padded.shape[0] // block, padded.shape[1] // block
        cells = padded.reshape(by, block, bx, block).transpose(0, 2, 1, 3).reshape(by, bx, block * block)
        mixed = (cells != cells[..., :1]).any(axis=-1)
        coarse = cells[..., 0].astype(np.int32)
        coarse[mixed] = -1 - np.arange(int(mixed.sum()), dtype=np.int32)
        return cls(ny, nx, block, coarse, np.ascontiguousarray(cells[mixed]))


@numba.njit(cache=True, nogil=True)
def lookup_classes(lon, lat, x0, y0, cell, ny, nx, block, coarse, blocks, table, out_class, district, core, in_city,
                   nodes):  # fmt: skip
    """Per point: its cell's class (-1 off the grid, 0 near a boundary) and that class's answers.

    The classes are a BlockedClasses (``ny``, ``nx``, ``block``, ``coarse``, ``blocks``);
    ``table`` row k is class k's (district, core, in_city, nodes...), row 0 "nothing" (also used
    off the grid).
    """
    for i in range(lon.shape[0]):
        fx, fy = np.floor((lon[i] - x0) / cell), np.floor((lat[i] - y0) / cell)
        k = -1
        if 0 <= fx < nx and 0 <= fy < ny:  # False for NaN
            ix, iy = int(fx), int(fy)
            k = coarse[iy // block, ix // block]
            if k < 0:
                k = blocks[-1 - k, (iy % block) * block + ix % block]
        out_class[i] = k
        r = max(k, 0)
        district[i] = table[r, 0]
        core[i] = table[r, 1]
        in_city[i] = table[r, 2] != 0
        for j in range(nodes.shape[1]):
            nodes[i, j] = table[r, 3 + j]


@numba.njit(cache=True, nogil=True)
def distinct_rows(matrix, base, seen):
    """(code per row, first row of each code) of the distinct rows of a small-integer matrix, codes
    in order of first appearance. Entries are in -1 .. base - 2; ``seen`` (base ** columns entries,
    all -1) is the table of codes by row value (node sets of a few dozen nodes: no hashing)."""
    n, k = matrix.shape
    codes = np.empty(n, dtype=np.int32)
    first = np.empty(n, dtype=np.int64)
    count = 0
    for i in range(n):
        key = 0
        for j in range(k):
            key = key * base + matrix[i, j] + 1
        code = seen[key]
        if code < 0:
            code = seen[key] = count
            first[count] = i
            count += 1
        codes[i] = code
    return codes, first[:count]
