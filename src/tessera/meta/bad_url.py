"""The error of a --metadata-url Tessera cannot use: apart from ``tessera.meta.database`` so
that the command line can catch it without loading the database layer for client commands."""


class BadMetadataUrl(ValueError):
    """A metadata URL Tessera cannot use, said in one line."""
