#!/usr/bin/python3
"""Decrypts a drctl-encrypted backup or WAL object without drctl.

An independent reader of drctl's sealed format (Sources/DRBackup/SealedStream.swift), on
Python's `cryptography` package (Debian: python3-cryptography): for a disaster where
drctl itself is not at hand, and for the tests, which check drctl's encryption with it.

Usage: decrypt-backup.py KEYFILE SEALED OUTPUT
  KEYFILE  the backup key, 64 hex digits (backup.encryption.key_file)
  SEALED   e.g. base.tar.zst.enc, NAME.dump.enc, wal/000000010000000000000003.zst.enc
  OUTPUT   the plaintext (still zstd-compressed for .zst.enc: `zstd -d` it)

Format: a 32-byte header "DRCTLAE1" | key id (16 ASCII hex) | chunk shift | 7-byte nonce
prefix, then chunks of 2^shift plaintext bytes (the last shorter), each AES-256-GCM with
nonce = prefix | chunk index (4 bytes, big-endian) | 1 if last else 0, the header as
associated data, and its 16-byte tag appended.
"""
import hashlib
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"drctl backup key id\n" + key).hexdigest()[:16]


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    key = bytes.fromhex(open(sys.argv[1]).read().strip())
    with open(sys.argv[2], "rb") as sealed, open(sys.argv[3], "wb") as out:
        header = sealed.read(32)
        if len(header) != 32 or header[:8] != b"DRCTLAE1":
            print("not a drctl sealed object", file=sys.stderr)
            return 1
        if header[8:24].decode() != key_id(key):
            print(f"sealed with key {header[8:24].decode()}, this key is {key_id(key)}", file=sys.stderr)
            return 1
        size = (1 << header[24]) + 16
        aead = AESGCM(key)
        index = 0
        chunk = sealed.read(size)
        while True:
            following = sealed.read(size)
            last = len(following) == 0
            nonce = header[25:32] + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")
            out.write(aead.decrypt(nonce, chunk, header))
            if last:
                return 0
            chunk = following
            index += 1


if __name__ == "__main__":
    sys.exit(main())
