/*
 * chardev: the ioctls of the Linux kernel's rpmsg char devices (include/uapi/linux/rpmsg.h),
 * and raw mode for an rpmsg tty, which Node cannot issue itself.
 *
 *   rpmsgCtrl(fd, request, name, src, dst): void
 *       request 1 RPMSG_CREATE_EPT_IOCTL   on /dev/rpmsg_ctrlN: a new /dev/rpmsgN endpoint device
 *               3 RPMSG_CREATE_DEV_IOCTL   on /dev/rpmsg_ctrlN: a new local channel (rpmsg device)
 *               4 RPMSG_RELEASE_DEV_IOCTL  on /dev/rpmsg_ctrlN: release such a channel
 *   rpmsgDestroyEpt(fd): void             RPMSG_DESTROY_EPT_IOCTL on an open /dev/rpmsgN
 *   ttyMakeRaw(fd): void                  cfmakeraw + tcsetattr: no translation either way
 *                                         (libuv's raw mode keeps OPOST|ONLCR: \n becomes \r\n)
 *
 * The ioctls are immediate in the kernel (device creation, no waiting on the remote), so they
 * run on the calling thread. Errors: Error with `code` = errno name and `syscall`.
 */
#include "common.h"
#include <errno.h>
#include <linux/rpmsg.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>

static napi_value rpmsg_ctrl(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!rpmsg_args(env, info, 5, argv, "rpmsgCtrl(fd, request, name, src, dst) expects five arguments")) return NULL;
  int fd;
  int32_t request = 0;
  struct rpmsg_endpoint_info ept;
  memset(&ept, 0, sizeof ept);
  if (!rpmsg_arg_fd(env, argv[0], &fd)) return NULL;
  napi_get_value_int32(env, argv[1], &request);
  /* name[32]: at most 31 bytes, as the kernel forces the last byte to NUL; longer is an error */
  char name[sizeof ept.name + 1];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[2], name, sizeof name, &len) != napi_ok || len >= sizeof ept.name) {
    napi_throw_range_error(env, "EINVAL", "name must be a string of at most 31 bytes");
    return NULL;
  }
  memcpy(ept.name, name, len);
  int64_t src, dst;
  if (!rpmsg_arg_int(env, argv[3], "src", 0, UINT32_MAX, &src) || !rpmsg_arg_int(env, argv[4], "dst", 0, UINT32_MAX, &dst)) {
    return NULL;
  }
  ept.src = (uint32_t)src;
  ept.dst = (uint32_t)dst;
  unsigned long req;
  const char *what;
  switch (request) {
    case 1: req = RPMSG_CREATE_EPT_IOCTL; what = "ioctl(RPMSG_CREATE_EPT_IOCTL)"; break;
    case 3: req = RPMSG_CREATE_DEV_IOCTL; what = "ioctl(RPMSG_CREATE_DEV_IOCTL)"; break;
    case 4: req = RPMSG_RELEASE_DEV_IOCTL; what = "ioctl(RPMSG_RELEASE_DEV_IOCTL)"; break;
    default:
      napi_throw_range_error(env, "EINVAL", "request must be 1 (create ept), 3 (create dev) or 4 (release dev)");
      return NULL;
  }
  if (ioctl(fd, req, &ept) < 0) return rpmsg_throw_errno(env, what, errno);
  return NULL;
}

static napi_value rpmsg_destroy_ept(napi_env env, napi_callback_info info) {
  int fd;
  if (!rpmsg_arg_fd_only(env, info, &fd)) return NULL;
  if (ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0) return rpmsg_throw_errno(env, "ioctl(RPMSG_DESTROY_EPT_IOCTL)", errno);
  return NULL;
}

static napi_value tty_make_raw(napi_env env, napi_callback_info info) {
  int fd;
  if (!rpmsg_arg_fd_only(env, info, &fd)) return NULL;
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return rpmsg_throw_errno(env, "tcgetattr", errno);
  cfmakeraw(&t);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSANOW, &t) != 0) return rpmsg_throw_errno(env, "tcsetattr", errno);
  return NULL;
}

RPMSG_REGISTER(chardev,
               {"rpmsgCtrl", rpmsg_ctrl}, {"rpmsgDestroyEpt", rpmsg_destroy_ept},
               {"ttyMakeRaw", tty_make_raw})
