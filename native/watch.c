/*
 * watch: readiness of a descriptor on Node's own event loop (libuv uv_poll), so that fds from
 * unix.c, fdpass.c and eventfd.c are read when ready instead of polled.
 *
 *   watch(fd, events, cb): handle               cb(status, events) with events 1 readable,
 *                                               2 writable, status < 0 a -errno from libuv
 *   unwatch(handle): void                       stops it (idempotent); must precede close(fd)
 *   watchRef(handle, ref): void                 whether it keeps the event loop alive
 *
 * A watch runs until unwatch() or the environment's teardown, whether or not JS keeps the
 * handle. libuv allows one watcher per fd per loop. An exception thrown by `cb` becomes an
 * uncaught exception, as from any Node callback.
 */
#include "common.h"
#include <stdlib.h>
#include <uv.h>


/*
 * Freed by whichever comes last: libuv's close callback (after unwatch or teardown) or the
 * finalizer of the JS handle.
 */
struct watcher {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  bool stopping;
  bool closed;
  bool finalized;
};

static void watcher_closed(uv_handle_t *h) {
  struct watcher *w = h->data;
  w->closed = true;
  if (w->finalized) free(w);
}

static void watcher_stop(struct watcher *w) {
  if (w->stopping) return;
  w->stopping = true;
  uv_poll_stop(&w->poll);
  napi_delete_reference(w->env, w->cb);
  napi_async_destroy(w->env, w->ctx);
  uv_close((uv_handle_t *)&w->poll, watcher_closed);
}

static void watcher_teardown(void *arg) { watcher_stop(arg); }

static void watcher_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct watcher *w = data;
  w->finalized = true;
  if (w->closed) free(w);
}

static void watcher_event(uv_poll_t *h, int status, int events) {
  struct watcher *w = h->data;
  if (w->stopping) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2], result;
  napi_get_reference_value(env, w->cb, &cb);
  napi_get_global(env, &recv); /* make_callback wants an object as `this` */
  argv[0] = rpmsg_num(env, status);
  argv[1] = rpmsg_num(env, events);
  if (napi_make_callback(env, w->ctx, recv, cb, 2, argv, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static napi_value fd_watch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t events;
  if (!rpmsg_args(env, info, 3, argv, NULL) || !rpmsg_arg_fd(env, argv[0], &fd) ||
      !rpmsg_arg_int(env, argv[1], "events", 1, UV_READABLE | UV_WRITABLE, &events)) {
    return NULL;
  }
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t != napi_function) {
    napi_throw_type_error(env, "EINVAL", "callback must be a function");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, "ENXIO", "no libuv loop");
    return NULL;
  }
  struct watcher *w = calloc(1, sizeof *w);
  if (w == NULL) return rpmsg_throw_errno(env, "calloc", ENOMEM);
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r != 0) {
    free(w);
    return rpmsg_throw_errno(env, "uv_poll_init", -r);
  }
  w->poll.data = w;
  w->env = env;
  napi_value name, handle;
  napi_create_string_utf8(env, "rpmsg.fdwatch", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[2], 1, &w->cb);
  napi_async_init(env, NULL, name, &w->ctx);
  r = uv_poll_start(&w->poll, (int)events, watcher_event);
  if (r != 0) {
    watcher_stop(w);
    w->finalized = true; /* no JS handle: the close callback frees */
    return rpmsg_throw_errno(env, "uv_poll_start", -r);
  }
  napi_add_env_cleanup_hook(env, watcher_teardown, w);
  napi_create_external(env, w, watcher_finalize, NULL, &handle);
  return handle;
}

static bool arg_watcher(napi_env env, napi_value v, struct watcher **w) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_external || napi_get_value_external(env, v, (void **)w) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "expected a handle from watch()");
    return false;
  }
  return true;
}

static napi_value fd_unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct watcher *w;
  if (!rpmsg_args(env, info, 1, argv, NULL) || !arg_watcher(env, argv[0], &w)) return NULL;
  if (!w->stopping) {
    napi_remove_env_cleanup_hook(env, watcher_teardown, w);
    watcher_stop(w);
  }
  return rpmsg_undef(env);
}

static napi_value fd_watch_ref(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  struct watcher *w;
  bool ref = true;
  if (!rpmsg_args(env, info, 2, argv, NULL) || !arg_watcher(env, argv[0], &w)) return NULL;
  napi_get_value_bool(env, argv[1], &ref);
  if (!w->stopping) {
    if (ref) uv_ref((uv_handle_t *)&w->poll);
    else uv_unref((uv_handle_t *)&w->poll);
  }
  return rpmsg_undef(env);
}

RPMSG_REGISTER(watch,
               {"watch", fd_watch}, {"unwatch", fd_unwatch},
               {"watchRef", fd_watch_ref})
