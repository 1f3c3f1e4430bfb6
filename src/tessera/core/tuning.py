"""Defaults that both the engines and the command-line options that override them need — here,
apart, so that describing the options (``tessera --help``, every client command) does not load
the storage engine."""

GC_GRACE_MS = 60 * 60 * 1000  # the collector leaves unfinished writes younger than this alone
LIFECYCLE_BATCH = 500  # lifecycle candidates per query and per transaction
LIFECYCLE_NAMED = 200  # uploads or objects a lifecycle outcome names (its totals count them all)
