#!/bin/sh
# Rebuilds static/editor.js from editor/ (needs Node 18+ and npm; run from anywhere).
set -eu
cd "$(dirname "$0")"
npm ci
npm run build
