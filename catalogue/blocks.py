"""Feature blocks: a published dataset's items pages, pre-built by PostGIS.

An unfiltered page of a dataset's collection (`/ogc/collections/{id}/items?limit=&offset=`) is
the commonest request of QGIS, GDAL and harvesters, which walk a collection page by page. Built
row by row, each feature costs an index lookup and a JSON build in PostgreSQL (85-92 % of the
request's time, per the bench's profiles). Here the features, ordered by id, are built once when
the dataset is published and kept in blocks of FEATURE_BLOCK_SIZE Feature texts
(catalogue.models.FeatureBlock); a page is the few blocks it spans, cut at byte offsets.

Blocks are only an optimisation: a page is built from them only when every block it needs is
of the dataset's current version and revision; otherwise (not built yet, being rebuilt) it is
built by SQL as before (catalogue.selectors), and a build is queued. Filtered pages (bbox,
properties, CQL2) and the `occurrences` collection over every dataset are built by SQL, except an
anonymous bbox page of an occurrence dataset: the build also writes that dataset's Feature texts,
one row a feature in geohash order (`TEXTS`, catalogue.models.FeatureText), which such a page
reads while the blocks are current (catalogue.selectors.public_occurrences_page).
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg2.extensions
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from layers.models import Dataset
from webgis.db.prepared import PreparedStatement
from webgis.lib.pgtools import statement_timeout_lift

log = logging.getLogger(__name__)

TABLE = "catalogue_featureblock"
TEXTS = "catalogue_featuretext"
# A streamed page is fetched this many features' worth of blocks at a time.
STREAM_BATCH_FEATURES = 2_000


def block_size() -> int:
    return int(settings.FEATURE_BLOCK_SIZE)


def _page_sql(dataset: str) -> str:
    """A page's blocks and the dataset's feature count and title, if its blocks are current (one
    round trip); `dataset` finds the dataset `d`. `ends` only for the first and last block: the
    middle ones are sent whole."""
    return f"""
SELECT m.matched, b.seq, b.features,
       CASE WHEN b.seq IN (%(first)s, %(last)s) THEN b.ends END AS ends, m.title
FROM (SELECT d.id, d.title, f.matched FROM layers_dataset d
      JOIN {TABLE} f ON f.dataset_id = d.id AND f.seq = 0 AND f.block_size = %(size)s
        AND f.version = d.version AND f.revision = d.revision
      WHERE {dataset} AND d.is_published) m
LEFT JOIN {TABLE} b ON b.dataset_id = m.id AND b.seq BETWEEN %(first)s AND %(last)s
ORDER BY b.seq"""


_PAGE_SQL = _page_sql("d.id = %(dataset)s")
_PAGE = PreparedStatement("amdis_blocks_page", _PAGE_SQL)
# An anonymous visitor's unfiltered page (catalogue.api.items): the published dataset found by
# its slug, without building the collection.
_PUBLIC_PAGE = PreparedStatement(
    "amdis_blocks_public_page", _page_sql("d.slug = %(slug)s AND d.kind = ANY(%(kinds)s)")
)


@dataclass
class BlockStream:
    """One page of a dataset's features, read from its blocks: the interface of
    deposits.selectors.FeatureStream (`whole()`, `chunks()`, `page()`, the counts), and the
    same bytes. `fallback` builds the page by SQL when the blocks are missing or stale."""

    dataset_id: int
    dataset_version: int
    limit: int
    offset: int
    fallback: Any  # a FeatureStream of the same page
    number_matched: int = 0
    number_returned: int = 0
    size: int = field(default_factory=block_size)

    @property
    def first(self) -> int:
        return self.offset // self.size

    @property
    def last(self) -> int:
        return (self.offset + self.limit - 1) // self.size

    @property
    def params(self) -> dict[str, int]:
        return {
            "dataset": self.dataset_id,
            "first": self.first,
            "last": self.last,
            "size": self.size,
        }

    @property
    def page_sql(self) -> str:
        """The statement a page runs (the bench's SQL floor runs it too)."""
        return _PAGE_SQL

    def _cut(self, seq: int, text: bytes, ends: list[int] | None) -> bytes:
        """The part of block `seq` that is on the page."""
        start = self.offset % self.size if seq == self.first else 0
        begin = ends[start - 1] + 1 if start and ends else 0
        if seq == self.last and ends:
            stop = (self.offset + self.limit - 1) % self.size
            if stop < len(ends) - 1:
                return text[begin : ends[stop]]
        return text[begin:] if begin else text

    def complete(self, rows: Sequence[Sequence[Any]]) -> bool:
        """Every block the page spans, or none when the page is past the end (no rows: the
        dataset has no current blocks)."""
        if not rows:
            return False
        matched = int(rows[0][0])
        if self.offset >= matched:
            return True
        wanted = list(range(self.first, min(self.last, (matched - 1) // self.size) + 1))
        return [row[1] for row in rows] == wanted

    def take(self, rows: Sequence[Sequence[Any]]) -> Iterator[bytes]:
        """The page's part of each block, and its counts (rows as the page's SQL returns them)."""
        self.number_matched = int(rows[0][0])
        self.number_returned = max(0, min(self.limit, self.number_matched - self.offset))
        for row in rows:
            seq, text, ends = row[1], row[2], row[3]
            if seq is not None:
                yield self._cut(seq, text, ends)

    def _queue_build(self) -> None:
        # Once per dataset state and web process; the job itself skips a build already done.
        key = f"feature-blocks:{self.dataset_id}:{self.dataset_version}"
        if cache.add(key, True, timeout=600):
            from catalogue.tasks import feature_blocks_build_task

            dataset_id = self.dataset_id
            transaction.on_commit(lambda: feature_blocks_build_task.enqueue(dataset_id))

    def _counts_from_fallback(self) -> None:
        self.number_matched = self.fallback.number_matched
        self.number_returned = self.fallback.number_returned

    def whole(self) -> bytes:
        with connection.cursor() as cursor:
            psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor.cursor)
            _PAGE.execute(cursor, self.params)
            rows = cursor.fetchall()
        if not self.complete(rows):
            if not rows:
                self._queue_build()
            features = self.fallback.whole()
            self._counts_from_fallback()
            return features
        return b",".join(self.take(rows))

    def chunks(self) -> Iterator[bytes]:
        """A large page a few blocks at a time (the web process holds at most `batch` blocks).
        Blocks are written and deleted a whole dataset at a time, so within the cursor's
        snapshot a page's blocks are all there or none are."""
        batch = max(1, STREAM_BATCH_FEATURES // self.size)
        with transaction.atomic(), connection.chunked_cursor() as cursor:
            raw = cursor.cursor
            psycopg2.extensions.register_type(psycopg2.extensions.BYTES, raw)
            raw.itersize = batch
            cursor.execute(self.page_sql, self.params)
            rows = cursor.fetchmany(batch)
            usable = bool(rows) and rows[0][1] in (None, self.first)
            sep = b""
            while usable and rows:
                for part in self.take(rows):
                    yield sep + part
                    sep = b","
                rows = cursor.fetchmany(batch)
        if not usable:
            # Outside this transaction: the SQL stream reads its count and rows in one of its own.
            if not rows:
                self._queue_build()
            yield from self.fallback.chunks()
            self._counts_from_fallback()

    def page(self) -> Any:
        from deposits.selectors import FeaturePage

        features = self.whole().decode()
        return FeaturePage(features, self.number_returned, self.number_matched)


@dataclass(frozen=True)
class PublicPage:
    title: str  # the dataset's, which is its collection's
    features: list[bytes]  # pieces of the features array's text, to put commas between
    number_matched: int
    number_returned: int


def public_page(*, slug: str, kinds: list[str], limit: int, offset: int) -> PublicPage | None:
    """The page, if `slug` is a published dataset of one of `kinds` whose blocks are current;
    else None, and the caller takes the general path (which answers 404s and queues builds)."""
    reader = BlockStream(dataset_id=0, dataset_version=0, limit=limit, offset=offset, fallback=None)
    params: dict[str, Any] = {**reader.params, "slug": slug, "kinds": kinds}
    with connection.cursor() as cursor:
        psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor.cursor)
        _PUBLIC_PAGE.execute(cursor, params)
        rows = cursor.fetchall()
    if not reader.complete(rows):
        return None
    features = list(reader.take(rows))
    return PublicPage(rows[0][4].decode(), features, reader.number_matched, reader.number_returned)


def blocks_build(dataset_id: int) -> int:
    """Builds the blocks of a published dataset's current version; returns how many were
    written (0 when they were current already, or the dataset is not published).

    One transaction, one snapshot: the dataset's row is share-locked first, so a publish or an
    edit that commits meanwhile waits for this build to commit and then deletes its blocks
    (the triggers), or, if it committed first, makes this build fail with a serialization error
    instead of writing stale blocks. Member states and commodities are share-locked likewise."""
    from catalogue.collections import OCCURRENCES, dataset_collection
    from catalogue.selectors import collection_features_sql

    size = block_size()
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # else the caller's transaction (tests) has its snapshot already
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        statement_timeout_lift()
        cursor.execute("LOCK TABLE deposits_memberstate, deposits_commodity IN SHARE MODE")
        cursor.execute(
            "SELECT version, revision, is_published FROM layers_dataset WHERE id = %s FOR SHARE",
            [dataset_id],
        )
        row = cursor.fetchone()
        if row is None or not row[2]:
            return 0
        version, revision, _ = row
        cursor.execute(
            f"SELECT count(*) FROM {TABLE} WHERE dataset_id = %s AND version = %s"
            " AND revision = %s AND block_size = %s",
            [dataset_id, version, revision, size],
        )
        (current,) = cursor.fetchone() or (0,)
        if current:
            return 0
        dataset = Dataset.objects.get(pk=dataset_id)
        collection = dataset_collection(dataset)
        if collection is None:
            return 0
        features, params = collection_features_sql(collection)
        cursor.execute(f"DELETE FROM {TABLE} WHERE dataset_id = %s", [dataset_id])
        cursor.execute(f"DELETE FROM {TEXTS} WHERE dataset_id = %s", [dataset_id])
        # Counted on the collection's rows (one per feature), without building their JSON.
        where = collection.where
        cursor.execute(
            f"SELECT count(*) FROM {collection.source.table} t WHERE {where.sql}",
            list(where.params),
        )
        (matched,) = cursor.fetchone() or (0,)
        if not matched:
            return 0
        if collection.source is OCCURRENCES:
            # The texts, one row a feature, written in geohash order: a box's features land in
            # adjacent table pages (bbox pages, catalogue.selectors). The blocks are then cut
            # from these texts, so each feature's JSON is built once.
            cursor.execute(
                f"""INSERT INTO {TEXTS} (dataset_id, feature_id, geom, feature)
                    SELECT %s, f.id, t.geom, f.feature FROM ({features}) f
                    JOIN {OCCURRENCES.table} t ON t.id = f.id
                    ORDER BY ST_GeoHash(t.geom, 10), f.id""",
                [dataset_id, *params],
            )
            features = f"SELECT feature, feature_id AS id FROM {TEXTS} WHERE dataset_id = %s"
            params = [dataset_id]
        # ends: where each feature ends in its block, in bytes (the comma after it is not in).
        cursor.execute(
            f"""INSERT INTO {TABLE} (dataset_id, version, revision, block_size, seq, matched,
                                     features, ends)
                SELECT %s, %s, %s, %s, seq, %s, string_agg(feature, ',' ORDER BY n),
                       array_agg(ends ORDER BY n)
                FROM (SELECT feature, n, n / %s AS seq,
                             sum(octet_length(feature) + 1)
                               OVER (PARTITION BY n / %s ORDER BY n) - 1 AS ends
                      FROM (SELECT f.feature, row_number() OVER (ORDER BY f.id) - 1 AS n
                            FROM ({features}) f) numbered) placed
                GROUP BY seq""",
            [dataset_id, version, revision, size, matched, size, size, *params],
        )
        written = cursor.rowcount
    log.info(
        "feature blocks: %s v%s, %s features in %s blocks", dataset.slug, version, matched, written
    )
    return written


def blocks_build_all() -> dict[str, int]:
    """Every published dataset with features whose blocks are missing or stale: slug → blocks."""
    from catalogue.collections import SOURCES

    built = {}
    for dataset in Dataset.objects.filter(is_published=True, kind__in=list(SOURCES)).order_by("pk"):
        built[dataset.slug] = blocks_build(dataset.pk)
    return built
