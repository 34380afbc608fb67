#!/usr/bin/env bash
# Writes VERSION into drctl's BuildVersion.swift (what `drctl --version` prints); with
# `dev`, puts the development value back. Used by `make install` around the release build.
# Usage: stamp-version.sh FILE VERSION
set -euo pipefail
file=${1:?usage: stamp-version.sh FILE VERSION} version=${2:?usage: stamp-version.sh FILE VERSION}
case $version in *[!A-Za-z0-9._+-]*) echo "stamp-version: refusing \"$version\" (letters, digits and ._+- only)" >&2; exit 2 ;; esac
sed -i "s/static let value = \"[^\"]*\"/static let value = \"$version\"/" "$file"
grep -q "static let value = \"$version\"" "$file"
