"""Pure image processing for image-service: bytes or PIL images in, bytes, images or models out.

No I/O, no NATS, no database. Modules by role: ``formats`` (what we accept and how it is named),
``decode`` (safe decoding), ``encode``, ``operations`` (geometry), ``compress`` (size targets and
presets), ``metadata`` (EXIF reading and lossless stripping), ``thumbnail``, and ``modes`` (pixel
mode normalisation). Private helpers (``_jpeg``, ``_exif``, ``_xmp``, ``_isobmff``, ``_strip``)
walk container formats as pure byte code.
"""
