# Bitácora's container image. Built by scripts/build-image.sh, which needs no registry: it makes
# the root file system (the release binary without debug info, the shared libraries ldd lists and
# the dynamic loader, /etc/passwd and /etc/group with uid 10001, CA certificates, /data owned by
# 10001) as target/image/rootfs.tar, then runs `docker build` on this file.
#
#   docker run -d --name bitacora -p 127.0.0.1:3100:3100 \
#     -v bitacora-data:/data \
#     -v /var/run/docker.sock:/var/run/docker.sock:ro \
#     -v /var/lib/docker/containers:/var/lib/docker/containers:ro \
#     --group-add "$(stat -c %g /var/run/docker.sock)" \
#     bitacora:latest
#
# It runs as uid 10001, which reads the Docker socket through --group-add (the socket's group)
# and writes only /data. Docker's json-files are readable by root only, so as uid 10001 the agent
# reads logs through the Docker logs API; add `--user 0` to read the files directly (README,
# "Install"). It listens on all interfaces of the container: publish the port on 127.0.0.1 or
# configure authentication before exposing it.
FROM scratch
ADD target/image/rootfs.tar /
USER 10001:10001
# Plain log lines for `docker logs` and Dokku (no ANSI colours).
ENV NO_COLOR=1
VOLUME /data
EXPOSE 3100
ENTRYPOINT ["/usr/local/bin/bitacora"]
CMD ["run", "--listen", "0.0.0.0:3100", "--data-dir", "/data"]
