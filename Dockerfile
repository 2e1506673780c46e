# The aip container images, FROM scratch: statically linked binaries
# (CGO_ENABLED=0) and the CA certificates, nothing else. No stage pulls a
# base image, so it builds without registry access.
#
# Build with `make image` (it stages the build context in bin/image/ and
# builds both targets):
#   aip-issuer    /usr/local/bin/aip-issuer and aip; runs `aip-issuer serve`
#   aip-enforcer  /usr/local/bin/aip-enforcer and aip; runs `aip-enforcer serve`
# The context holds aip, aip-issuer, aip-enforcer and ca-certificates.crt
# (make image-context). By hand:
#   make image-context
#   docker build --target aip-issuer -t ghcr.io/aip-project/aip-issuer:0.1.0 bin/image
#
# The images run as uid/gid 65532 (the Helm chart's securityContext) and
# need no writable root filesystem. The enforcer image has no Node.js: put
# it in front of an MCP server over HTTP (upstream.url, the chart's way);
# for a stdio upstream build an image of your own with the server in it.

FROM scratch AS base
ARG VERSION=dev
LABEL org.opencontainers.image.source="https://github.com/aip-project/aip" \
      org.opencontainers.image.version="${VERSION}"
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV PATH=/usr/local/bin
USER 65532:65532

FROM base AS aip-issuer
LABEL org.opencontainers.image.title="aip-issuer" \
      org.opencontainers.image.description="aip token issuer and agent registry"
COPY aip aip-issuer /usr/local/bin/
EXPOSE 8443
ENTRYPOINT ["aip-issuer"]
CMD ["serve", "-config", "/etc/aip/issuer.yaml"]

FROM base AS aip-enforcer
LABEL org.opencontainers.image.title="aip-enforcer" \
      org.opencontainers.image.description="aip enforcer: zero-trust authorization in front of an MCP server"
COPY aip aip-enforcer /usr/local/bin/
EXPOSE 8443
ENTRYPOINT ["aip-enforcer"]
CMD ["serve", "-config", "/etc/aip/enforcer/enforcer.yaml"]
