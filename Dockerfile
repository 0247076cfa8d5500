# mlgate as a container: the GitHub container action (action.yml), the GitLab CI template's image, and
# `docker run`. Two stages: build the wheel and install it into a venv, then copy only the venv.
# Plain `docker build` syntax only (no BuildKit features: the engines this is tested on lack them).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src/ src/
COPY templates/ templates/
# NOTE: Debian's own python3 is "externally managed" (PEP 668), so mlgate lives in a venv at /opt/mlgate.
RUN python3 -m venv /opt/mlgate \
 && /opt/mlgate/bin/pip install --no-cache-dir --disable-pip-version-check -q wheel \
 && /opt/mlgate/bin/pip wheel --no-cache-dir --disable-pip-version-check -q --no-deps -w /wheels . \
 && /opt/mlgate/bin/pip install --no-cache-dir --disable-pip-version-check -q /wheels/*.whl \
 && /opt/mlgate/bin/pip uninstall -y -q wheel setuptools \
 && find /opt/mlgate/lib -depth -type d -name tests -exec rm -rf {} +
# NOTE: pip stays (a train.command may `pip install -r requirements.txt` first); bytecode stays (cold start).

FROM ${BASE_IMAGE}
# git: baselines and merge-bases need it (python:3.11-slim lacks it; the Debian base used in tests has it).
# openssh-client: Docker training on DOCKER_HOST=ssh://; it comes with git where the base lacks git, as
# python:3.11-slim does (the test base has git and runs no ssh:// training).
# hadolint ignore=DL3008
RUN if ! command -v git >/dev/null; then \
      apt-get update -q && apt-get install -y -q --no-install-recommends git ca-certificates openssh-client \
      && rm -rf /var/lib/apt/lists/*; \
    fi \
 && git config --system --add safe.directory '*'
# NOTE: safe.directory '*': the runner mounts the workspace owned by its own uid (1001 on GitHub's hosted
# runners) while the container runs as root; git refuses such a repository ("dubious ownership") otherwise.
COPY --from=build /opt/mlgate /opt/mlgate
COPY container-entrypoint.sh /opt/mlgate/bin/mlgate-entrypoint
ENV PATH=/opt/mlgate/bin:$PATH \
    MPLBACKEND=Agg \
    MPLCONFIGDIR=/opt/mlgate/mplconfig \
    PYTHONUNBUFFERED=1
# NOTE: the runner mounts an empty HOME (/github/home): the font cache lives in MPLCONFIGDIR instead, built
# here once so that no run pays matplotlib's first-import font scan.
RUN chmod 0755 /opt/mlgate/bin/mlgate-entrypoint \
 && python3 -c "import matplotlib.font_manager" \
 && mlgate --version
ENTRYPOINT ["/opt/mlgate/bin/mlgate-entrypoint"]
CMD ["--help"]
