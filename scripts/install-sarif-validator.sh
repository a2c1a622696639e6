#!/usr/bin/env bash
# Installs what the SARIF test needs into tests/sarif: ajv + ajv-formats from
# npm (tests/sarif/package.json), and the official SARIF 2.1.0 schema file
# (sarif-schema-2.1.0.json, $id oasis-tcs/sarif-spec), which the npm package
# @datadog/datadog-ci ships; only that one file is taken from its tarball.
# Idempotent: does nothing when both are there.
set -euo pipefail

DIR="$(cd "$(dirname "$0")/../tests/sarif" && pwd)"
SCHEMA_PKG=@datadog/datadog-ci@2.44.0
SCHEMA_IN_PKG=package/dist/commands/sarif/json-schema/sarif-schema-2.1.0.json

if [[ -f $DIR/schema/sarif-schema-2.1.0.json && -d $DIR/node_modules/ajv && -d $DIR/node_modules/ajv-formats ]]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "install-sarif-validator: installing npm" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
echo "install-sarif-validator: installing ajv and the SARIF 2.1.0 schema into $DIR" >&2
(cd "$DIR" && npm install --no-audit --no-fund --silent >/dev/null)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$SCHEMA_PKG" >/dev/null && tar -xzf ./*.tgz "$SCHEMA_IN_PKG")
mkdir -p "$DIR/schema"
cp "$tmp/$SCHEMA_IN_PKG" "$DIR/schema/sarif-schema-2.1.0.json"
