# wirecheck image: built with the project's own install script and Makefile
# target (the ones CI uses), run on bookworm-slim as 65532 with only the
# shared libraries the binary links.
#   docker build -t registry.example.com/wirecheck:0.1.0 .
# See docs/operations.md, "Build the image".
FROM debian:bookworm AS build
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN make binary BUILD_DIR=/build BUILD_TYPE=Release CMAKE_FLAGS=-DWIRECHECK_BENCH=OFF \
    && strip /build/wirecheck

FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
# Every shared library `ldd build/wirecheck` lists comes from one of these,
# and each of them but ca-certificates provides one (tests/server/image_test.cpp
# checks both with dpkg -S).
ARG RUNTIME_PACKAGES="libc6 libgcc-s1 libstdc++6 libssl3 libsimdjson14 ca-certificates"
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends $RUNTIME_PACKAGES \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /build/wirecheck /usr/local/bin/wirecheck
USER 65532:65532
EXPOSE 8443 8080
ENTRYPOINT ["/usr/local/bin/wirecheck"]
CMD ["serve", "--tls-cert-file=/certs"]
