"""The metadata schema, one definition for SQLite and PostgreSQL.

Times are integer milliseconds since the epoch (exact, portable, cheap to compare). Keys use
byte order everywhere: SQLite compares TEXT with memcmp, PostgreSQL is told ``COLLATE "C"``,
so listings come out in the UTF-8 byte order OSS uses.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Object keys and prefixes compare as bytes on both engines.
KeyText = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
Millis = sa.BigInteger

access_keys = sa.Table(
    "access_keys",
    metadata,
    sa.Column("access_key_id", sa.String(64), primary_key=True),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("created_ms", Millis, nullable=False),
    sa.Column("is_root", sa.Boolean, nullable=False, default=False),
)

buckets = sa.Table(
    "buckets",
    metadata,
    sa.Column("bucket_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(63), nullable=False, unique=True),
    sa.Column("created_ms", Millis, nullable=False),
    sa.Column("storage_class", sa.String(32), nullable=False),
    sa.Column("acl", sa.String(32), nullable=False),
    sa.Column("data_redundancy", sa.String(8), nullable=False),
    sa.Column("owner", sa.String(64), nullable=False),
)

# A bucket's lifecycle configuration, as its normalized rules (a JSON list).
bucket_lifecycle = sa.Table(
    "bucket_lifecycle",
    metadata,
    sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("updated_ms", Millis, nullable=False),
)

# A bucket's CORS rules (a JSON list, in the order they are matched) and whether answers carry
# "Vary: Origin" (docs/compatibility.md, CORS).
bucket_cors = sa.Table(
    "bucket_cors",
    metadata,
    sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
    sa.Column("rules", sa.JSON, nullable=False),
    sa.Column("response_vary", sa.Boolean, nullable=False),
    sa.Column("updated_ms", Millis, nullable=False),
)

# Exact usage per bucket × storage class × kind (object | part | upload), changed in the same
# transaction as the rows it counts. billed_bytes applies the 64 KB minimum of IA and colder
# objects; bytes is the real size.
usage = sa.Table(
    "usage",
    metadata,
    sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
    sa.Column("storage_class", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("billed_bytes", sa.BigInteger, nullable=False),
)

# Every change of the usage counters, timestamped: what GB-hours for any window are computed
# from. No foreign key: a deleted bucket's history stays.
usage_ledger = sa.Table(
    "usage_ledger",
    metadata,
    sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("bucket_id", sa.Integer, nullable=False),
    sa.Column("storage_class", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("at_ms", Millis, nullable=False),
    sa.Column("count_delta", sa.BigInteger, nullable=False),
    sa.Column("bytes_delta", sa.BigInteger, nullable=False),
    sa.Column("billed_delta", sa.BigInteger, nullable=False),
    sa.Index("ix_usage_ledger_time", "at_ms"),
)

# Objects that left a storage class before its minimum storage duration (deleted, overwritten
# or moved to another class): the rest of the minimum is charged, at that class's price, at the
# instant they left. billed_bytes applies the 64 KB minimum. No foreign key, as the ledger.
early_deletions = sa.Table(
    "early_deletions",
    metadata,
    sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("bucket_id", sa.Integer, nullable=False),
    sa.Column("key", KeyText, nullable=False),
    sa.Column("storage_class", sa.String(32), nullable=False),
    sa.Column("at_ms", Millis, nullable=False),
    sa.Column("stored_ms", Millis, nullable=False),  # how long it had counted towards the minimum
    sa.Column("charged_ms", Millis, nullable=False),  # the rest of the minimum, charged
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("billed_bytes", sa.BigInteger, nullable=False),
    sa.Index("ix_early_deletions_time", "at_ms"),
)

# One row per lifecycle run: what it was asked, what it did, how it ended. A run whose
# finished_ms stays empty was interrupted (the process died); the next run redoes its work.
lifecycle_runs = sa.Table(
    "lifecycle_runs",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("bucket", sa.String(63), nullable=True),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("evaluated_at_ms", Millis, nullable=False),
    sa.Column("started_ms", Millis, nullable=False),
    sa.Column("finished_ms", Millis, nullable=True),
    sa.Column("outcomes", sa.JSON, nullable=True),
    sa.Column("errors", sa.JSON, nullable=True),
)

# Named leases: one holder at a time across every process sharing the metadata store.
leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("expires_ms", Millis, nullable=False),
)

# Every owned blob file has a row here, inserted by the transaction that gives it its owner
# (after the file is durable in place) and kept until after the file is gone. state: live (owned
# by a part, an object or an append segment), garbage (released, or claimed by the collector as
# an orphan; the file may be unlinked), freed (a blob nobody ever owned, deleted: the row stays a
# day so that a late writer's claim on it conflicts), pending (older databases only: a row
# recorded before its file was written). The state changes in the same transaction as the ownership it reflects, so a
# collector can never free owned bytes (meta/blobs.py).
blobs = sa.Table(
    "blobs",
    metadata,
    sa.Column("blob_id", sa.String(32), primary_key=True),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False, default=0),
    sa.Column("created_ms", Millis, nullable=False),
    # garbage rows: when the owner let go (stamped after its commit; None: not yet), for backends
    # that delete released blobs only a delay after (tessera.core.storage.Storage.free)
    sa.Column("released_ms", Millis, nullable=True),
    sa.Index("ix_blobs_state_created", "state", "created_ms"),
)

objects = sa.Table(
    "objects",
    metadata,
    sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
    sa.Column("key", KeyText, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(48), nullable=False),
    sa.Column("crc64", sa.String(20), nullable=False),
    sa.Column("content_md5", sa.String(24), nullable=True),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("user_meta", sa.JSON, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False, server_default=sa.text("'{}'")),
    sa.Column("storage_class", sa.String(32), nullable=False),
    sa.Column("object_type", sa.String(16), nullable=False),
    sa.Column("last_modified_ms", Millis, nullable=False),
    # When a lifecycle rule last moved the object to its storage class; empty if written in it.
    # ColdArchive and DeepColdArchive count their minimum storage duration from here.
    sa.Column("transitioned_ms", Millis, nullable=True),
    # Exactly one of these holds the data: a single blob, or the parts of a completed upload.
    sa.Column("blob_id", sa.String(32), nullable=True),
    sa.Column("upload_id", sa.String(32), nullable=True),
    # default (the bucket's ACL applies), private, public-read or public-read-write.
    sa.Column("acl", sa.String(32), nullable=False, server_default="default"),
    # A symlink (object_type Symlink) holds no data: it names another key of its bucket.
    sa.Column("symlink_target", KeyText, nullable=True),
    # Lifecycle finds objects by age within a bucket.
    sa.Index("ix_objects_age", "bucket_id", "last_modified_ms"),
    # A restore of a cold object: asked for, readable from, readable until (empty: frozen), and
    # its priority (empty for Archive). Lifecycle runs find the expired ones by their expiry.
    sa.Column("restore_requested_ms", Millis, nullable=True),
    sa.Column("restore_ready_ms", Millis, nullable=True),
    sa.Column("restore_expires_ms", Millis, nullable=True),
    sa.Column("restore_tier", sa.String(16), nullable=True),
    sa.Index("ix_objects_restore_expiry", "restore_expires_ms"),
)

# state: active (parts may be uploaded), completed (its parts now belong to the object of the
# same upload_id; the row stays so a retried Complete gets the same answer).
uploads = sa.Table(
    "uploads",
    metadata,
    sa.Column("upload_id", sa.String(32), primary_key=True),
    sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), nullable=False),
    sa.Column("key", KeyText, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("initiated_ms", Millis, nullable=False),
    sa.Column("last_part_ms", Millis, nullable=True),
    sa.Column("initiator", sa.String(64), nullable=False),
    sa.Column("storage_class", sa.String(32), nullable=False),
    sa.Column("content_type", sa.String(255), nullable=False),
    sa.Column("headers", sa.JSON, nullable=False),
    sa.Column("user_meta", sa.JSON, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False, server_default=sa.text("'{}'")),
    # Filled at completion, to answer a retried Complete identically.
    sa.Column("completed_parts", sa.Text, nullable=True),
    sa.Column("etag", sa.String(48), nullable=True),
    sa.Column("crc64", sa.String(20), nullable=True),
    sa.Column("size", sa.BigInteger, nullable=True),
    # The object ACL asked for at initiation, given to the object at completion.
    sa.Column("acl", sa.String(32), nullable=False, server_default="default"),
    # How many parts the upload holds and their bytes (parts have no billed minimum, so this is
    # also what they are billed for), changed in the same transaction as its parts: Part
    # Management sorts and pages by them (docs/console.md, Part Management).
    sa.Column("part_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("part_bytes", sa.BigInteger, nullable=False, server_default="0"),
    # Σ size × upload time (ms) of its parts, in floating point (it outgrows 64-bit integers):
    # part_bytes × now − this is how many byte-milliseconds its parts have been stored, their
    # cost so far, without reading them.
    sa.Column("part_uploaded_byte_ms", sa.Float, nullable=False, server_default="0"),
    sa.Index(
        "ix_uploads_active_listing",
        "bucket_id",
        "key",
        "upload_id",
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    ),
)
# Lifecycle finds stale uploads by when they last changed (latest part, else initiation).
sa.Index(
    "ix_uploads_active_age",
    uploads.c.bucket_id,
    sa.func.coalesce(uploads.c.last_part_ms, uploads.c.initiated_ms),
    uploads.c.upload_id,
    sqlite_where=sa.text("state = 'active'"),
    postgresql_where=sa.text("state = 'active'"),
)
# Part Management pages through a bucket's active uploads in any of these orders (the key order
# is ix_uploads_active_listing's, the last-part order ix_uploads_active_age's), with upload_id
# breaking ties so that a keyset cursor is exact. A prefix search in these orders reads the
# prefix's range of ix_uploads_active_listing and sorts what matches.
for _name, _column in (("parts", uploads.c.part_count), ("bytes", uploads.c.part_bytes)):
    sa.Index(
        f"ix_uploads_active_by_{_name}",
        uploads.c.bucket_id,
        _column,
        uploads.c.upload_id,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )
# The partial indexes' condition, written inline: with 'active' a bound parameter, SQLite checks
# it on every row it finds, reading the row even when an index holds all a query needs.
ACTIVE_UPLOAD = uploads.c.state == sa.literal_column("'active'")
# The initiation order also carries every counter the usage reports read (meta/usage.py: the
# age histogram, a period's part costs), so that they read a bucket's range of this index and
# never its rows: 100 000 uploads of a bucket took 300 ms on SQLite read row by row, 70 ms here.
sa.Index(
    "ix_uploads_active_by_initiated",
    uploads.c.bucket_id,
    uploads.c.initiated_ms,
    uploads.c.upload_id,
    uploads.c.last_part_ms,
    uploads.c.storage_class,
    uploads.c.part_count,
    uploads.c.part_bytes,
    uploads.c.part_uploaded_byte_ms,
    sqlite_where=sa.text("state = 'active'"),
    postgresql_where=sa.text("state = 'active'"),
)

parts = sa.Table(
    "parts",
    metadata,
    sa.Column("upload_id", sa.String(32), primary_key=True),
    sa.Column("part_number", sa.Integer, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("etag", sa.String(32), nullable=False),
    sa.Column("crc64", sa.String(20), nullable=False),
    sa.Column("blob_id", sa.String(32), nullable=False),
    sa.Column("last_modified_ms", Millis, nullable=False),
)

# The data of an Appendable object (object_type 'Appendable', no blob_id or upload_id): its
# segments in position order, each a blob holding the bytes [position, position + size). An
# append adds one; merging replaces adjacent ones by one blob (docs/compatibility.md,
# AppendObject). Rows change in the same transaction as the object row they belong to.
append_segments = sa.Table(
    "append_segments",
    metadata,
    sa.Column("bucket_id", sa.Integer, sa.ForeignKey("buckets.bucket_id"), primary_key=True),
    sa.Column("key", KeyText, primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("blob_id", sa.String(32), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("crc64", sa.String(20), nullable=False),
)

# Long operations the console starts (kind "delete-uploads": Delete All in Part Management),
# run in batches by whichever gateway process holds them, with their progress here so that any
# worker can answer for them and another can resume one whose holder died. Each batch changes
# the data and the progress in one transaction. state: running, done, failed.
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("bucket", sa.String(63), nullable=False),
    sa.Column("prefix", KeyText, nullable=False),
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("state", sa.String(8), nullable=False),
    sa.Column("created_ms", Millis, nullable=False),
    # Only what existed when the job was asked for is in its scope.
    sa.Column("cutoff_ms", Millis, nullable=False),
    sa.Column("finished_ms", Millis, nullable=True),
    sa.Column("holder", sa.String(128), nullable=True),
    sa.Column("heartbeat_ms", Millis, nullable=True),
    sa.Column("total_uploads", sa.BigInteger, nullable=False),
    sa.Column("total_parts", sa.BigInteger, nullable=False),
    sa.Column("total_bytes", sa.BigInteger, nullable=False),
    sa.Column("done_uploads", sa.BigInteger, nullable=False),
    sa.Column("done_parts", sa.BigInteger, nullable=False),
    sa.Column("done_bytes", sa.BigInteger, nullable=False),
    # Where the next batch starts (key order), so a batch never rescans what is behind it.
    sa.Column("after_key", KeyText, nullable=True),
    sa.Column("after_upload_id", sa.String(32), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Index("ix_jobs_state", "state"),
)

# Web console sessions (docs/console.md, Sessions). The cookie carries a random token; only its
# SHA-256 is stored, so a copy of the database opens no session.
console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("access_key_id", sa.String(64), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_ms", Millis, nullable=False),
    sa.Column("last_seen_ms", Millis, nullable=False),
    sa.Index("ix_console_sessions_last_seen", "last_seen_ms"),
)

# Failed console sign-ins per subject (an access key ID, or a client address): after too many in
# a window, the subject is locked out for a while, whatever it sends.
console_signin_failures = sa.Table(
    "console_signin_failures",
    metadata,
    sa.Column("subject", sa.String(128), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_start_ms", Millis, nullable=False),
    sa.Column("locked_until_ms", Millis, nullable=False),
)
