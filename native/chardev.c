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

static int get_fd(napi_env env, napi_value v, int *fd) {
  int32_t n = -1;
  if (napi_get_value_int32(env, v, &n) != napi_ok || n < 0) {
    napi_throw_type_error(env, "EINVAL", "fd must be a non-negative integer");
    return -1;
  }
  *fd = n;
  return 0;
}

static int get_u32(napi_env env, napi_value v, uint32_t *out) {
  double d = -1;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= 4294967295.0) || d != (double)(uint32_t)d) {
    napi_throw_range_error(env, "EINVAL", "address must be an integer in 0..0xffffffff");
    return -1;
  }
  *out = (uint32_t)d;
  return 0;
}

static napi_value rpmsg_ctrl(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, "EINVAL", "rpmsgCtrl(fd, request, name, src, dst) expects five arguments");
    return NULL;
  }
  int fd;
  int32_t request = 0;
  struct rpmsg_endpoint_info ept;
  memset(&ept, 0, sizeof ept);
  if (get_fd(env, argv[0], &fd) != 0) return NULL;
  napi_get_value_int32(env, argv[1], &request);
  /* name[32]: at most 31 bytes, as the kernel forces the last byte to NUL; longer is an error */
  char name[sizeof ept.name + 1];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[2], name, sizeof name, &len) != napi_ok || len >= sizeof ept.name) {
    napi_throw_range_error(env, "EINVAL", "name must be a string of at most 31 bytes");
    return NULL;
  }
  memcpy(ept.name, name, len);
  if (get_u32(env, argv[3], &ept.src) != 0 || get_u32(env, argv[4], &ept.dst) != 0) return NULL;
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
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  if (argc < 1 || get_fd(env, argv[0], &fd) != 0) return NULL;
  if (ioctl(fd, RPMSG_DESTROY_EPT_IOCTL) < 0) return rpmsg_throw_errno(env, "ioctl(RPMSG_DESTROY_EPT_IOCTL)", errno);
  return NULL;
}

static napi_value tty_make_raw(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int fd;
  if (argc < 1 || get_fd(env, argv[0], &fd) != 0) return NULL;
  struct termios t;
  if (tcgetattr(fd, &t) != 0) return rpmsg_throw_errno(env, "tcgetattr", errno);
  cfmakeraw(&t);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (tcsetattr(fd, TCSANOW, &t) != 0) return rpmsg_throw_errno(env, "tcsetattr", errno);
  return NULL;
}

void rpmsg_register_chardev(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"rpmsgCtrl", NULL, rpmsg_ctrl, NULL, NULL, NULL, napi_default, NULL},
    {"rpmsgDestroyEpt", NULL, rpmsg_destroy_ept, NULL, NULL, NULL, napi_default, NULL},
    {"ttyMakeRaw", NULL, tty_make_raw, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
