"""The web console at ``/-/console/``: server-rendered pages (Jinja2), a little JavaScript, and
JSON endpoints of its own, behind session sign-in (docs/console.md).

It is a dialect beside OSS: its own authentication (sessions, CSRF tokens), its own errors (JSON
and console messages), and the same domain services (``tessera.core``) underneath.
"""
