# Stand-in for python:3.11-slim-bookworm: Debian's python3.11 and pip, where the original has its
# own build (/usr/local/bin/python3.11, python, pip; pip may install system-wide).
FROM imagetools-standin/bookworm
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3.11 python3-pip >/dev/null \
    && rm -rf /var/lib/apt/lists/* /usr/lib/python3.11/EXTERNALLY-MANAGED \
    && for name in python3.11 python3 python; do ln -s /usr/bin/python3.11 /usr/local/bin/$name; done \
    && ln -s /usr/bin/pip3 /usr/local/bin/pip
CMD ["python3"]
