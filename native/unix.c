/*
 * unix: UNIX stream sockets, non-blocking and close-on-exec, for what Node's net module cannot
 * hand over (a raw fd, for fd passing with fdpass.c and readiness with watch.c).
 *
 *   socketpair(): [number, number]             AF_UNIX SOCK_STREAM pair
 *   listenUnix(path, backlog): number           bind + listen on a UNIX socket path
 *   acceptUnix(fd): number                      a connected socket, or -1 when none is pending
 *   connectUnix(path): number                   a connected UNIX stream socket
 */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static bool arg_path(napi_env env, napi_value v, struct sockaddr_un *sa) {
  size_t len = 0;
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  if (napi_get_value_string_utf8(env, v, sa->sun_path, sizeof sa->sun_path, &len) != napi_ok || len == 0 ||
      len >= sizeof sa->sun_path - 1) {
    napi_throw_range_error(env, "EINVAL", "socket path must be a non-empty string shorter than 107 bytes");
    return false;
  }
  return true;
}

static napi_value fd_socketpair(napi_env env, napi_callback_info info) {
  (void)info;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
    return rpmsg_throw_errno(env, "socketpair", errno);
  }
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, rpmsg_num(env, sv[0]));
  napi_set_element(env, arr, 1, rpmsg_num(env, sv[1]));
  return arr;
}

static napi_value fd_listen_unix(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct sockaddr_un sa;
  int64_t backlog;
  if (!rpmsg_args(env, info, 2, argv, NULL) || !arg_path(env, argv[0], &sa) ||
      !rpmsg_arg_int(env, argv[1], "backlog", 1, 4096, &backlog)) {
    return NULL;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return rpmsg_throw_errno(env, "socket", errno);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, (int)backlog) != 0) {
    return rpmsg_close_throw(env, fd, "bind/listen", errno);
  }
  return rpmsg_num(env, fd);
}

static napi_value fd_accept_unix(napi_env env, napi_callback_info info) {
  int fd;
  if (!rpmsg_arg_fd_only(env, info, &fd)) return NULL;
  int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (c < 0) {
    if (rpmsg_would_block(errno) || errno == ECONNABORTED || errno == EINTR) return rpmsg_num(env, -1);
    return rpmsg_throw_errno(env, "accept4", errno);
  }
  return rpmsg_num(env, c);
}

static napi_value fd_connect_unix(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct sockaddr_un sa;
  if (!rpmsg_args(env, info, 1, argv, NULL) || !arg_path(env, argv[0], &sa)) return NULL;
  /* Blocking connect (immediate for a local UNIX socket with a listener), then non-blocking. */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return rpmsg_throw_errno(env, "socket", errno);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
    return rpmsg_close_throw(env, fd, "connect", errno);
  }
  return rpmsg_num(env, fd);
}

RPMSG_REGISTER(unix,
               {"socketpair", fd_socketpair}, {"listenUnix", fd_listen_unix},
               {"acceptUnix", fd_accept_unix}, {"connectUnix", fd_connect_unix})
