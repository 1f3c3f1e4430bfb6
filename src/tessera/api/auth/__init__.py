"""Authentication: OSS signature V1 and V4, in header and presigned-URL form.

Handlers never see a request that did not pass ``authenticate``.
"""

from tessera.api.auth.gate import authenticate
from tessera.api.auth.request import AuthError, RequestToVerify

__all__ = ["AuthError", "RequestToVerify", "authenticate"]
