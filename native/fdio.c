/*
 * fdio: plain non-blocking I/O on a descriptor (a socket, a pipe, a tty, a char device). No
 * call blocks the event loop; "would block" is a return value, never an exception.
 *
 *   read(fd, buf) / write(fd, buf): number      bytes; -1 = would block; read 0 = end of file
 *   setNonBlocking(fd): void                    O_NONBLOCK on a descriptor received from a peer
 *   close(fd): void
 */
#include "common.h"
#include <fcntl.h>
#include <unistd.h>

/* read(fd, buf) or write(fd, buf): the byte count, -1 when it would block. */
static napi_value transfer(napi_env env, napi_callback_info info, bool out) {
  napi_value argv[2];
  int fd;
  void *data;
  size_t len;
  if (!rpmsg_args(env, info, 2, argv, NULL) || !rpmsg_arg_fd_bytes(env, argv, &fd, &data, &len)) return NULL;
  ssize_t n;
  if (out) RPMSG_RETRY_EINTR(n, write(fd, data, len));
  else RPMSG_RETRY_EINTR(n, read(fd, data, len));
  return rpmsg_io_count(env, n, out ? "write" : "read");
}

static napi_value fd_read(napi_env env, napi_callback_info info) { return transfer(env, info, false); }
static napi_value fd_write(napi_env env, napi_callback_info info) { return transfer(env, info, true); }

static napi_value fd_set_nonblocking(napi_env env, napi_callback_info info) {
  int fd;
  if (!rpmsg_arg_fd_only(env, info, &fd)) return NULL;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return rpmsg_throw_errno(env, "fcntl", errno);
  return rpmsg_undef(env);
}

static napi_value fd_close(napi_env env, napi_callback_info info) {
  int fd;
  if (!rpmsg_arg_fd_only(env, info, &fd)) return NULL;
  if (close(fd) != 0 && errno != EINTR) return rpmsg_throw_errno(env, "close", errno);
  return rpmsg_undef(env);
}

RPMSG_REGISTER(fdio,
               {"read", fd_read}, {"write", fd_write},
               {"setNonBlocking", fd_set_nonblocking}, {"close", fd_close})
