# The common base of the stand-ins: Debian 12 minbase (imported from debootstrap) trusting this
# machine's locally added CA certificates, so pip, uv, npm and apt reach their indexes through an
# intercepting egress proxy. Built at test time only; the certificates are never committed.
FROM imagetools-standin/bookworm:base
COPY certs/ /usr/local/share/ca-certificates/
COPY pip.conf /etc/pip.conf
RUN update-ca-certificates >/dev/null
# uv and npm read their own CA settings, not the system store.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    NPM_CONFIG_CAFILE=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    LANG=C.UTF-8
CMD ["bash"]
