#!/usr/bin/env bash
# npm run build: compile src/ to dist/ and copy the files the compiled modules read at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx --no-install tsc -p tsconfig.build.json
npx --no-install tsc-alias -p tsconfig.build.json
# Static web files sit beside the module that serves them (src/web/assets.ts reads ./static/).
find src -type d -name static | while read -r dir; do
  mkdir -p "dist/${dir#src/}"
  cp -R "$dir/." "dist/${dir#src/}/"
done
