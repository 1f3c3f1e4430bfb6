"""Copying files to and from OSS: plans, resumable multipart uploads and ranged downloads with
checkpoints, CRC-64 verification end to end, and a progress bar.

Everything here talks to the server through the public calls of ``alibabacloud-oss-v2``; the
``tessera cp`` command (``tessera.cli.client.copy``) only parses options and prints.
"""
