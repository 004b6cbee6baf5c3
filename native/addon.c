/*
 * rpmsg_native: the package's one native addon, for what Node cannot do itself (mmap of a
 * shared-memory file, fd passing and readiness, ...). Each job lives in its own file and
 * registers its functions here.
 * The addon is optional: src/native/addon.ts loads it lazily and reports ENXIO with what to
 * install when it is missing.
 */
#include "common.h"

static napi_value init(napi_env env, napi_value exports) {
  rpmsg_register_shm(env, exports);
  rpmsg_register_unix(env, exports);
  rpmsg_register_fdpass(env, exports);
  rpmsg_register_fdio(env, exports);
  rpmsg_register_eventfd(env, exports);
  rpmsg_register_mmap(env, exports);
  rpmsg_register_watch(env, exports);
  rpmsg_register_chardev(env, exports);
  rpmsg_register_peercred(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
