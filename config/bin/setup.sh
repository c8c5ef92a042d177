#!/bin/sh
# The demo's setup step: prepare (or, with --clean, remove) the data directory.
set -e
if [ "$1" = "--clean" ]; then
    rm -f "$2/db.journal"
    echo "setup: cleaned $2"
    exit 0
fi
mkdir -p "$1"
echo "setup: prepared $1"
