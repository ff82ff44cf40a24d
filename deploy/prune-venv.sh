#!/bin/sh
# Drop from a built virtualenv what no ImageTools process runs: the test suites bundled in
# third-party packages (numpy, scipy, numba, onnxruntime, ...) and C/Cython sources and headers.
# Our own packages have no `tests` directory inside (their tests live beside src/).
set -eu
site=$(echo "$1"/lib/python3*/site-packages)
find "$site" -depth -type d \( -name tests -o -name testing_data \) -path "$site/*/*" -exec rm -rf {} +
find "$site" -type f \( -name '*.pyx' -o -name '*.pxd' -o -name '*.c' -o -name '*.h' -o -name '*.hpp' \) -delete
