# Stand-in for postgres:16-bookworm: PostgreSQL 16 from the pgserver wheel (its binaries and the
# libpq they link), the original's user, paths, POSTGRES_* variables and entrypoint behaviour.
FROM imagetools-standin/bookworm
RUN groupadd --system --gid 999 postgres \
    && useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql --shell /bin/bash postgres \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
# The wheel's layout: bin/ finds its libraries at ../../../pgserver.libs.
COPY pginstall /opt/pgserver/pgserver/pginstall
COPY pgserver.libs /opt/pgserver/pgserver.libs
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
# PGHOST: the wheel's clients default to another socket directory than the server below uses.
ENV PATH=/opt/pgserver/pgserver/pginstall/bin:$PATH \
    PGDATA=/var/lib/postgresql/data \
    PGHOST=/var/run/postgresql
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
