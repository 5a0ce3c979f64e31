#!/usr/bin/env bash
# On the lent machine: copies the folders this call carried (.device, .body-*) out of the
# repository copy, to $KEEP (default /root/anrc-keep). The device tool does not keep a
# carried folder in the repository copy for the next call (seen 2026-12-04: a part
# carried by one call was gone in the next), but files outside it stay while the machine
# is warm; run.sh takes them back from there.
set -euo pipefail
cd "$(dirname "$0")/../.."
KEEP=${KEEP:-/root/anrc-keep}
mkdir -p "$KEEP"
for d in .device .body-*; do
    [ -d "$d" ] || continue
    rm -rf "${KEEP:?}/$d" && cp -r "$d" "$KEEP/$d"
done
ls "$KEEP"
