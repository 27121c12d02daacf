#!/bin/sh
# The image's entry point. Without arguments: bring the schema up to date, then serve
# (`vandra db upgrade` exits 2 with one line when the configuration is wrong, and the
# container stops). With arguments: that vandra command, e.g.
#   docker compose run --rm vandra db backup --out /srv/vandra/backups/vandra.bak
set -eu
if [ "$#" -eq 0 ]; then
    vandra db upgrade
    exec vandra run
fi
exec vandra "$@"
