"""The client commands of ``tessera``: ossutil-style, talking to an endpoint over HTTP."""
