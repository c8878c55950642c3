"""Writes a .npy file with any header shape and raw data, without numpy, so
tests can build the malformed files a hostile user would.

usage: make_npy.py OUT DESCR SHAPE [VALUES...]
  DESCR   '<f4', '<i8', ...; SHAPE a Python tuple text such as "(2, -3)";
  VALUES  numbers packed in DESCR's format (fewer than the shape holds is a
          truncated file).
"""
import struct
import sys

out, descr, shape = sys.argv[1:4]
values = sys.argv[4:]
header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
fmt = {"<f4": "<f", "<f8": "<d", "<f2": "<e", "<i4": "<i", "<i8": "<q"}[descr]
cast = float if "f" in descr else int
with open(out, "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
    for v in values:
        f.write(struct.pack(fmt, cast(v)))
