#!/bin/sh
# Installs PyTorch from Debian for regenerating test/fixtures/torch only:
# tests and CI never need it (they read the committed JSON fixtures).
# Run the generator with the system interpreter afterwards:
#   /usr/bin/python3 scripts/make_torch_fixtures.py
set -eu
apt-get update -qq
apt-get install -y -qq python3-torch libopenblas0-openmp
/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'
