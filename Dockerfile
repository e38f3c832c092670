# syntax=docker/dockerfile:1
#
# The mca image: the `deno compile`d binary on distroless, as a non-root user, with nothing to
# write at run time (the chart sets readOnlyRootFilesystem).
#
# Where the binary comes from, chosen with the build argument MCA_BINARY:
#   compile   (default) compiled here for each target platform. The compile stage runs on the
#             build machine's own architecture and cross-compiles (`deno compile --target` only
#             swaps the runtime it embeds), so a multi-arch build needs no emulation.
#   prebuilt  copies dist/mca-linux-<arch> made before by `deno task compile`. The release
#             workflow uses it so that the image holds the very binaries it publishes.
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t mca .
#   deno task compile && docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg MCA_BINARY=prebuilt -t mca .

ARG MCA_BINARY=compile

# Node brings npm, which installs the Deno pinned in tools/deno/package.json (scripts/deno does).
FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS compile
WORKDIR /src
ENV DENO_DIR=/deno-dir
# Deno first, then the npm dependencies, then the sources: each layer is reused until its own
# inputs change.
COPY scripts/deno scripts/deno
COPY tools/deno/package.json tools/deno/package-lock.json tools/deno/
RUN scripts/deno --version
COPY deno.json deno.lock ./
# --frozen: the release uses exactly the dependency versions of deno.lock, or fails.
RUN scripts/deno install --frozen
COPY main.ts ./
COPY src/ src/
ARG TARGETARCH
# The same flags as the `compile` task in deno.json, for the one architecture being built.
RUN case "$TARGETARCH" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "Unsupported TARGETARCH \"$TARGETARCH\": mca is built for amd64 and arm64" >&2; exit 1 ;; \
    esac \
 && scripts/deno compile --frozen --allow-all --target "$target" -o /out/mca main.ts

FROM scratch AS prebuilt
ARG TARGETARCH
COPY dist/mca-linux-${TARGETARCH} /out/mca

# Picks the stage named by MCA_BINARY; BuildKit builds only the stages the image needs.
FROM ${MCA_BINARY} AS binary

# A compiled Deno binary links glibc and libgcc, which the "cc" flavour of distroless has (the
# "static" one does not). ":nonroot" runs as uid/gid 65532 and has CA certificates and tzdata.
FROM gcr.io/distroless/cc-debian12:nonroot
# Read-only and executable whatever mode the file had (downloaded artifacts lose the x bit).
COPY --from=binary --chmod=0555 /out/mca /usr/local/bin/mca
# Numeric, so that Kubernetes can check runAsNonRoot without a passwd lookup.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/mca"]
CMD ["--help"]
