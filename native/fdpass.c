/*
 * fdpass: file descriptors passed over a UNIX socket (sendmsg/recvmsg with SCM_RIGHTS), as
 * vhost-user hands over memory regions and eventfds. Non-blocking: "would block" is a return
 * value, never an exception.
 *
 *   recvFds(fd, buf, maxFds): {bytes, fds, droppedFds}|null
 *                                   null = would block; bytes 0 = peer closed; the received
 *                                   fds are ours (close-on-exec); those beyond maxFds are
 *                                   closed here and counted in droppedFds
 *   sendFds(fd, buf, fds): number   bytes sent; -1 = would block
 */
#define _GNU_SOURCE
#include "common.h"
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 16

/* One sendmsg/recvmsg: the socket, one buffer, room for MAX_FDS passed fds. */
struct fd_msg {
  int fd;
  struct iovec iov;
  struct msghdr msg;
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
  } control;
};

/* (fd, buf, ...) into `m`: the socket and the one buffer; no control data yet. */
static bool msg_args(napi_env env, napi_callback_info info, napi_value *argv, struct fd_msg *m) {
  memset(m, 0, sizeof *m);
  if (!rpmsg_args(env, info, 3, argv, NULL) || !rpmsg_arg_fd_bytes(env, argv, &m->fd, &m->iov.iov_base, &m->iov.iov_len)) {
    return false;
  }
  m->msg.msg_iov = &m->iov;
  m->msg.msg_iovlen = 1;
  return true;
}

/* Every fd passed in `msg`, the first `max_fds` into `fds`; returns how many were dropped. */
static uint32_t collect_fds(napi_env env, struct msghdr *msg, uint32_t max_fds, napi_value fds) {
  uint32_t kept = 0, dropped = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int passed;
      memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof passed);
      if (kept < max_fds) {
        napi_set_element(env, fds, kept++, rpmsg_num(env, passed));
      } else {
        close(passed);
        dropped++;
      }
    }
  }
  if (msg->msg_flags & MSG_CTRUNC) dropped++; /* the kernel closed some already */
  return dropped;
}

static napi_value fd_recv_fds(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct fd_msg m;
  int64_t max_fds;
  if (!msg_args(env, info, argv, &m) || !rpmsg_arg_int(env, argv[2], "maxFds", 0, MAX_FDS, &max_fds)) return NULL;
  m.msg.msg_control = m.control.buf;
  m.msg.msg_controllen = sizeof m.control.buf;
  ssize_t n;
  bool blocked = false;
  RPMSG_RETRY_EINTR(n, recvmsg(m.fd, &m.msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
  if (rpmsg_io_failed(env, n, "recvmsg", &blocked)) {
    napi_value nul;
    napi_get_null(env, &nul);
    return blocked ? nul : NULL;
  }
  napi_value fds, out;
  napi_create_array(env, &fds);
  uint32_t dropped = collect_fds(env, &m.msg, (uint32_t)max_fds, fds);
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "bytes", rpmsg_num(env, (double)n));
  napi_set_named_property(env, out, "fds", fds);
  napi_set_named_property(env, out, "droppedFds", rpmsg_num(env, dropped));
  return out;
}

static napi_value fd_send_fds(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct fd_msg m;
  if (!msg_args(env, info, argv, &m)) return NULL;
  uint32_t count = 0;
  bool is_array = false;
  napi_is_array(env, argv[2], &is_array);
  if (!is_array || napi_get_array_length(env, argv[2], &count) != napi_ok || count > MAX_FDS) {
    napi_throw_range_error(env, "EINVAL", "fds must be an array of at most 16 fds");
    return NULL;
  }
  if (count > 0) {
    m.msg.msg_control = m.control.buf;
    m.msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m.msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * count);
    for (uint32_t i = 0; i < count; i++) {
      napi_value v;
      int passed;
      napi_get_element(env, argv[2], i, &v);
      if (!rpmsg_arg_fd(env, v, &passed)) return NULL;
      memcpy(CMSG_DATA(c) + i * sizeof(int), &passed, sizeof passed);
    }
  }
  ssize_t n;
  RPMSG_RETRY_EINTR(n, sendmsg(m.fd, &m.msg, MSG_DONTWAIT | MSG_NOSIGNAL));
  return rpmsg_io_count(env, n, "sendmsg");
}

RPMSG_REGISTER(fdpass,
               {"recvFds", fd_recv_fds}, {"sendFds", fd_send_fds})
