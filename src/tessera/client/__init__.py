"""Tessera's ossutil-style client: settings, the SDK client, ``oss://`` URLs and transfers.

Built on the official ``alibabacloud-oss-v2`` SDK, so it works against Alibaba Cloud OSS as
well as against Tessera. Nothing here touches the server's own storage.
"""
