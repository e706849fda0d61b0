# syntax=docker/dockerfile:1
# gocache in a container: `docker build -t gocache .` then
#   docker run -d --name gocache -p 7000:7000 -p 9700:9700 -v gocache-data:/data gocache
# The build stage compiles one self-contained executable with `deno task compile`, whose
# permission flags are defined once, in deploy/compile.ts (network, files, two environment
# variables; no subprocesses, FFI or system information). The runtime stage is a slim Debian
# (glibc for the executable, bash for the health check) running it as an unprivileged user.

FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY main.ts ./
COPY src/ src/
COPY deploy/compile.ts deploy/compile.ts
RUN deno install --frozen --entrypoint main.ts src/cli/bench_worker.ts \
  && deno task compile \
  && ./dist/gocache --version

FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 gocache \
  && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home gocache \
  && mkdir -p /data /etc/gocache \
  && chown gocache:gocache /data
COPY --from=build /src/dist/gocache /usr/local/bin/gocache
COPY config/docker/node.yaml /etc/gocache/node.yaml
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# Client port, cluster bus (port + 10000), metrics endpoint.
EXPOSE 7000 17000 9700
# /healthz on the metrics port (200 while the process answers), asked with bash's /dev/tcp: the
# image needs no HTTP client. A configuration with another metrics-port needs its own check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9700 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["gocache"]
CMD ["serve", "--config", "/etc/gocache/node.yaml"]
