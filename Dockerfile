# zeroinit as a container's init: a slim Python 3.11 image, zeroinit in its own virtual
# environment under /opt/zeroinit, services in /etc/zeroinit.d, and the application as CMD,
# which zeroinit runs as the service `main` once `boot` (db and web here) is up.
#
#   docker build -t zeroinit-example . && docker run --rm zeroinit-example
#
# The `test` stage runs the project's test suite in this image, as root (see
# docker-compose.test.yml), so the PID-1 tests run for real.

FROM python:3.11-slim AS runtime
COPY pyproject.toml README.md /src/zeroinit/
COPY actors /src/zeroinit/actors
COPY broker /src/zeroinit/broker
COPY cli /src/zeroinit/cli
RUN python -m venv /opt/zeroinit \
    && /opt/zeroinit/bin/pip install --no-cache-dir /src/zeroinit \
    && rm -rf /src/zeroinit
COPY config/container/ /etc/zeroinit.d/
COPY config/bin/ /opt/demo/bin/
ENV PATH=/opt/zeroinit/bin:$PATH
ENTRYPOINT ["/opt/zeroinit/bin/zeroinit", "--"]
CMD ["python3", "/opt/demo/bin/worker.py", "main"]

FROM runtime AS test
COPY . /src/zeroinit
WORKDIR /src/zeroinit
RUN /opt/zeroinit/bin/pip install --no-cache-dir -e '.[test]'
ENTRYPOINT []
CMD ["/opt/zeroinit/bin/python", "-m", "pytest", "-n", "auto"]
