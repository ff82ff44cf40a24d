#!/bin/sh
# As nats:2-alpine's entrypoint: arguments starting with a dash are nats-server's flags.
set -e
[ "${1#-}" != "$1" ] && set -- nats-server "$@"
exec "$@"
