"""Authentication: OSS signature V1 and V4, in header and presigned-URL form.

Handlers never see a request that did not pass ``authenticate``: either its signature holds,
or it carries none and is anonymous (then authorization decides what it may do).
"""

from tessera.api.auth.gate import authenticate
from tessera.api.auth.request import AuthError, RequestToVerify

__all__ = ["AuthError", "RequestToVerify", "authenticate"]
