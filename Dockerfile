# syntax=docker/dockerfile:1
# The auditpack GitHub Action image: one static binary, CA certificates
# for the GitHub API, and an empty /tmp. No shell.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/auditpack ./cmd/auditpack \
 && mkdir -m 1777 /out/tmp

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/tmp /tmp
COPY --from=build /out/auditpack /auditpack
# GitHub runs container actions as the image's user and documents that
# they must run as root (uid 0) to write to the mounted workspace and to
# the file-command files, whose owners differ between hosted runners
# (uid 1001) and self-hosted ones. Hence no USER instruction; see
# docs/action.md.
ENTRYPOINT ["/auditpack"]
