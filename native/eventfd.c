/*
 * eventfd: the kernel's counter-and-wake-up object (eventfd(2)), the kick and call
 * notifications of vhost-user. Non-blocking and close-on-exec.
 *
 *   eventfd(initval): number              a non-blocking eventfd
 *   eventfdRead(fd): number               the counter (and resets it); 0 = not signalled
 *   eventfdWrite(fd, value): boolean      false = would block (the counter would overflow)
 */
#include "common.h"
#include <sys/eventfd.h>
#include <unistd.h>

static napi_value fd_eventfd(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t initval;
  if (!rpmsg_args(env, info, 1, argv, NULL) || !rpmsg_arg_int(env, argv[0], "initval", 0, UINT32_MAX, &initval)) {
    return NULL;
  }
  int fd = eventfd((unsigned)initval, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return rpmsg_throw_errno(env, "eventfd", errno);
  return rpmsg_num(env, fd);
}

static napi_value fd_eventfd_read(napi_env env, napi_callback_info info) {
  int fd;
  if (!rpmsg_arg_fd_only(env, info, &fd)) return NULL;
  uint64_t value = 0;
  ssize_t n;
  bool blocked = false;
  RPMSG_RETRY_EINTR(n, read(fd, &value, sizeof value));
  if (rpmsg_io_failed(env, n, "read (eventfd)", &blocked)) return blocked ? rpmsg_num(env, 0) : NULL;
  if (n != sizeof value) return rpmsg_throw_errno(env, "read (eventfd: not an eventfd)", EINVAL);
  return rpmsg_num(env, (double)value);
}

static napi_value fd_eventfd_write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd;
  int64_t value;
  if (!rpmsg_args(env, info, 2, argv, NULL) || !rpmsg_arg_fd(env, argv[0], &fd) ||
      !rpmsg_arg_int(env, argv[1], "value", 1, UINT32_MAX, &value)) {
    return NULL;
  }
  uint64_t v = (uint64_t)value;
  ssize_t n;
  bool blocked = false;
  RPMSG_RETRY_EINTR(n, write(fd, &v, sizeof v));
  if (rpmsg_io_failed(env, n, "write (eventfd)", &blocked) && !blocked) return NULL;
  napi_value r;
  napi_get_boolean(env, n >= 0, &r);
  return r;
}

RPMSG_REGISTER(eventfd,
               {"eventfd", fd_eventfd}, {"eventfdRead", fd_eventfd_read},
               {"eventfdWrite", fd_eventfd_write})
