# wirecheck: build on Debian bookworm with the same packages as
# scripts/install-deps.sh, run on bookworm-slim with only the shared libraries.
#   docker build -t wirecheck:0.1.0 .
FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      build-essential cmake pkg-config libcpp-httplib-dev libssl-dev nlohmann-json3-dev \
      libsimdjson-dev libspdlog-dev libfmt-dev catch2 libyaml-cpp-dev libyaml-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DWIRECHECK_BENCH=OFF \
    && cmake --build /build -j"$(nproc)" --target wirecheck \
    && strip /build/wirecheck

FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libcpp-httplib0.11 libssl3 libsimdjson14 libspdlog1.10 libfmt9 libyaml-cpp0.7 libyaml-0-2 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/wirecheck /usr/local/bin/wirecheck
USER 65532:65532
EXPOSE 8443 8080
ENTRYPOINT ["/usr/local/bin/wirecheck"]
CMD ["serve", "--tls-cert-file=/certs"]
