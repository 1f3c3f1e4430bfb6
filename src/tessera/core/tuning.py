"""Defaults that both the engines and the command-line options that override them need — here,
apart, so that describing the options (``tessera --help``, every client command) does not load
the storage engine."""

GC_GRACE_MS = 60 * 60 * 1000  # the collector leaves unfinished writes younger than this alone
# how long the row of a blob nobody ever owned (an orphan the collector claimed, a write given up)
# outlives the blob, so that a late writer's claim on it is refused (tessera.core.storage.Storage.own)
FREED_ROWS_KEPT_MS = 24 * 60 * 60 * 1000
LIFECYCLE_BATCH = 500  # lifecycle candidates per query and per transaction
LIFECYCLE_NAMED = 200  # uploads or objects a lifecycle outcome names (its totals count them all)
