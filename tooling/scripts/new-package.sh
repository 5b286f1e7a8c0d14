#!/usr/bin/env bash
# Scaffold a publishable package: bash tooling/scripts/new-package.sh <name> "<description>" [deps...]
set -euo pipefail
name=$1; desc=$2; shift 2
dir=packages/$name
mkdir -p $dir/src $dir/test
deps=""
for d in "$@"; do deps="$deps\"@formers/$d\": \"workspace:^\","; done
deps=${deps%,}
cat > $dir/package.json <<JSON
{
  "name": "@formers/$name",
  "version": "0.1.0",
  "description": "$desc",
  "license": "MIT",
  "type": "module",
  "sideEffects": false,
  "engines": { "node": ">=20" },
  "main": "./dist/index.cjs",
  "module": "./dist/index.js",
  "types": "./dist/index.d.ts",
  "exports": {
    ".": {
      "import": { "types": "./dist/index.d.ts", "default": "./dist/index.js" },
      "require": { "types": "./dist/index.d.cts", "default": "./dist/index.cjs" }
    },
    "./package.json": "./package.json"
  },
  "files": ["dist", "README.md", "CHANGELOG.md"],
  "scripts": {
    "build": "tsup",
    "typecheck": "tsc --noEmit -p tsconfig.json",
    "lint": "node ../../tooling/scripts/lint.mjs src",
    "test": "vitest run"
  },
  "dependencies": { $deps }
}
JSON
cat > $dir/tsconfig.json <<JSON
{
  "extends": "../../tooling/tsconfig.base.json",
  "include": ["src", "test"]
}
JSON
cat > $dir/tsup.config.ts <<TS
import { packageTsupConfig } from '../../tooling/tsup.shared';

export default packageTsupConfig();
TS
cat > $dir/vitest.config.ts <<TS
import { packageVitestConfig } from '../../tooling/vitest.shared';

export default packageVitestConfig();
TS
[ -f $dir/CHANGELOG.md ] || printf "# @formers/$name\n" > $dir/CHANGELOG.md
