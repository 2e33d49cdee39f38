/*
 * tap.node: Linux TAP device for Node (plain N-API, no node-addon-api).
 *
 *   open(name)                     -> fd        /dev/net/tun, TUNSETIFF IFF_TAP|IFF_NO_PI, O_NONBLOCK
 *   ifname(fd)                     -> string    the kernel's name for the device (open may get "tap%d")
 *   watch(fd, buf, onFrame, onBatch)            uv_poll on readability; per wake-up: read() into `buf`
 *                                               until EAGAIN (at most MAX_BATCH frames), onFrame(len)
 *                                               per frame, then onBatch(frames, errno) once.
 *                                               errno != 0 means the watcher stopped (device gone).
 *   write(fd, u8, length)          -> boolean   one frame; false on EAGAIN/ENOBUFS/EIO/ENETDOWN
 *   ref(fd, on)                                 ref/unref the watcher (an unref'd TAP does not keep
 *                                               the process alive)
 *   close(fd)                                   stop the watcher, close the fd (idempotent)
 *
 * Receive allocates nothing per frame: the frame lands in the JS-provided Uint8Array and JS gets
 * its length. Errors other than "no room now" throw (EBADF, EINVAL, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uv.h>

#define MAX_BATCH 256   /* frames per wake-up; uv_poll is level-triggered, the rest comes next tick */
#define MAX_WATCHERS 64

typedef struct watcher {
  uv_poll_t poll;        /* first member: (uv_handle_t *)w works */
  napi_env env;
  int fd;
  int closing;           /* set by close(); the read loop checks it after every callback */
  napi_ref buf_ref;      /* keeps the receive Uint8Array alive */
  uint8_t *buf;
  size_t buf_len;
  napi_ref on_frame;
  napi_ref on_batch;
  napi_async_context async;
} watcher_t;

static watcher_t *watchers[MAX_WATCHERS];

#define CHECK(env, call)                                                   \
  do {                                                                     \
    napi_status status_ = (call);                                          \
    if (status_ != napi_ok) {                                              \
      const napi_extended_error_info *info_ = NULL;                        \
      napi_get_last_error_info((env), &info_);                             \
      bool pending_ = false;                                               \
      napi_is_exception_pending((env), &pending_);                         \
      if (!pending_)                                                       \
        napi_throw_error((env), NULL,                                      \
                         info_ && info_->error_message ? info_->error_message \
                                                       : #call " failed"); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  char codebuf[32];
  snprintf(codebuf, sizeof codebuf, "E%d", err);
  napi_create_string_utf8(env, codebuf, NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, message, &error);
  napi_value errnum;
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
  return NULL;
}

static watcher_t *find_watcher(int fd) {
  for (int i = 0; i < MAX_WATCHERS; i++)
    if (watchers[i] && watchers[i]->fd == fd && !watchers[i]->closing) return watchers[i];
  return NULL;
}

static int get_fd(napi_env env, napi_value v, int *fd) {
  if (napi_get_value_int32(env, v, fd) != napi_ok || *fd < 0) {
    napi_throw_type_error(env, NULL, "fd must be a non-negative integer");
    return 0;
  }
  return 1;
}

/* ---- open ------------------------------------------------------------------------------------ */

static napi_value tap_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[IFNAMSIZ] = "";
  size_t len = 0;
  if (argc >= 1) {
    napi_valuetype t;
    CHECK(env, napi_typeof(env, argv[0], &t));
    if (t == napi_string) {
      CHECK(env, napi_get_value_string_utf8(env, argv[0], NULL, 0, &len));
      if (len >= IFNAMSIZ) {
        napi_throw_range_error(env, NULL, "interface name longer than 15 bytes");
        return NULL;
      }
      CHECK(env, napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len));
    }
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open /dev/net/tun", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (name[0]) memcpy(ifr.ifr_name, name, len);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "ioctl TUNSETIFF", err);
  }
  napi_value result;
  CHECK(env, napi_create_int32(env, fd, &result));
  return result;
}

static napi_value tap_ifname(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_fd(env, argv[0], &fd)) return NULL;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  if (ioctl(fd, TUNGETIFF, &ifr) < 0) return throw_errno(env, "ioctl TUNGETIFF", errno);
  napi_value result;
  CHECK(env, napi_create_string_utf8(env, ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ), &result));
  return result;
}

/* ---- watcher --------------------------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h) {
  watcher_t *w = (watcher_t *)h;
  /* References were already dropped in stop_watcher when the env was alive. */
  free(w);
}

/* Stop polling, drop JS references, free after libuv is done. Does not close the fd. */
static void stop_watcher(watcher_t *w, int env_alive) {
  if (w->closing) return;
  w->closing = 1;
  uv_poll_stop(&w->poll); /* also removes the fd from epoll: closing the fd afterwards is safe */
  for (int i = 0; i < MAX_WATCHERS; i++)
    if (watchers[i] == w) watchers[i] = NULL;
  if (env_alive) {
    if (w->buf_ref) napi_delete_reference(w->env, w->buf_ref);
    if (w->on_frame) napi_delete_reference(w->env, w->on_frame);
    if (w->on_batch) napi_delete_reference(w->env, w->on_batch);
    if (w->async) napi_async_destroy(w->env, w->async);
  }
  w->buf_ref = w->on_frame = w->on_batch = NULL;
  w->async = NULL;
  w->buf = NULL;
  uv_close((uv_handle_t *)&w->poll, on_handle_closed);
}

/* Calls fn(args); returns 0 if JS threw (the exception is raised as uncaught and the loop stops). */
static int call_js(watcher_t *w, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_env env = w->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return 0;
  napi_get_global(env, &recv);
  napi_status s = napi_make_callback(env, w->async, recv, fn, argc, argv, &result);
  if (s != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
    return 0;
  }
  return 1;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  watcher_t *w = (watcher_t *)handle;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;

  int frames = 0, err = 0;
  if (status < 0) {
    err = -status;
  } else {
    while (frames < MAX_BATCH && !w->closing) {
      ssize_t n = read(w->fd, w->buf, w->buf_len);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) err = errno;
        break;
      }
      if (n == 0) break;
      frames++;
      napi_handle_scope inner;
      napi_open_handle_scope(env, &inner);
      napi_value len;
      napi_create_int32(env, (int32_t)n, &len);
      int ok = call_js(w, w->on_frame, 1, &len);
      napi_close_handle_scope(env, inner);
      if (!ok) break;
    }
  }
  if (!w->closing) {
    napi_value argv[2];
    napi_create_int32(env, frames, &argv[0]);
    napi_create_int32(env, err, &argv[1]);
    call_js(w, w->on_batch, 2, argv);
    if (err && !w->closing) stop_watcher(w, 1); /* the fd stays open: JS close() closes it */
  }
  napi_close_handle_scope(env, scope);
}

static napi_value tap_watch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int fd;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !get_fd(env, argv[0], &fd)) {
    if (argc < 4) napi_throw_type_error(env, NULL, "watch(fd, buffer, onFrame, onBatch)");
    return NULL;
  }
  bool is_ta = false;
  CHECK(env, napi_is_typedarray(env, argv[1], &is_ta));
  napi_typedarray_type ta_type;
  size_t ta_len = 0, ta_off = 0;
  void *data = NULL;
  napi_value ab;
  if (is_ta) CHECK(env, napi_get_typedarray_info(env, argv[1], &ta_type, &ta_len, &data, &ab, &ta_off));
  if (!is_ta || ta_type != napi_uint8_array || ta_len < 64) {
    napi_throw_type_error(env, NULL, "buffer must be a Uint8Array of at least 64 bytes");
    return NULL;
  }
  napi_valuetype t2, t3;
  CHECK(env, napi_typeof(env, argv[2], &t2));
  CHECK(env, napi_typeof(env, argv[3], &t3));
  if (t2 != napi_function || t3 != napi_function) {
    napi_throw_type_error(env, NULL, "onFrame and onBatch must be functions");
    return NULL;
  }
  if (find_watcher(fd)) {
    napi_throw_error(env, NULL, "fd is already watched");
    return NULL;
  }
  int slot = -1;
  for (int i = 0; i < MAX_WATCHERS; i++)
    if (!watchers[i]) { slot = i; break; }
  if (slot < 0) {
    napi_throw_error(env, NULL, "too many watched TAP devices");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(env, napi_get_uv_event_loop(env, &loop));
  watcher_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "watch", ENOMEM);
  w->env = env;
  w->fd = fd;
  w->buf = data;
  w->buf_len = ta_len;
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc < 0) {
    free(w);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  napi_value resource_name;
  napi_create_string_utf8(env, "TapWatcher", NAPI_AUTO_LENGTH, &resource_name);
  if (napi_create_reference(env, argv[1], 1, &w->buf_ref) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &w->on_frame) != napi_ok ||
      napi_create_reference(env, argv[3], 1, &w->on_batch) != napi_ok ||
      napi_async_init(env, NULL, resource_name, &w->async) != napi_ok) {
    stop_watcher(w, 1);
    napi_throw_error(env, NULL, "watch: could not keep references");
    return NULL;
  }
  rc = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (rc < 0) {
    stop_watcher(w, 1);
    return throw_errno(env, "uv_poll_start", -rc);
  }
  watchers[slot] = w;
  return NULL;
}

static napi_value tap_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int fd;
  bool on = true;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_fd(env, argv[0], &fd)) return NULL;
  if (argc >= 2) CHECK(env, napi_get_value_bool(env, argv[1], &on));
  watcher_t *w = find_watcher(fd);
  if (w) {
    if (on) uv_ref((uv_handle_t *)&w->poll);
    else uv_unref((uv_handle_t *)&w->poll);
  }
  napi_value result;
  CHECK(env, napi_get_boolean(env, w != NULL, &result));
  return result;
}

/* ---- write ----------------------------------------------------------------------------------- */

static napi_value tap_write(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int fd;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || !get_fd(env, argv[0], &fd)) {
    if (argc < 3) napi_throw_type_error(env, NULL, "write(fd, frame, length)");
    return NULL;
  }
  bool is_ta = false;
  CHECK(env, napi_is_typedarray(env, argv[1], &is_ta));
  napi_typedarray_type type;
  size_t len = 0, off = 0;
  void *data = NULL;
  napi_value ab;
  if (is_ta) CHECK(env, napi_get_typedarray_info(env, argv[1], &type, &len, &data, &ab, &off));
  if (!is_ta || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "frame must be a Uint8Array");
    return NULL;
  }
  int64_t length;
  CHECK(env, napi_get_value_int64(env, argv[2], &length));
  if (length < 0 || (size_t)length > len) {
    napi_throw_range_error(env, NULL, "length outside the frame");
    return NULL;
  }
  ssize_t n;
  do n = write(fd, data, (size_t)length);
  while (n < 0 && errno == EINTR);
  bool ok = n == (ssize_t)length;
  if (n < 0) {
    int e = errno;
    if (e != EAGAIN && e != EWOULDBLOCK && e != ENOBUFS && e != EIO && e != ENETDOWN)
      return throw_errno(env, "write", e);
  }
  napi_value result;
  CHECK(env, napi_get_boolean(env, ok, &result));
  return result;
}

/* ---- close ----------------------------------------------------------------------------------- */

static napi_value tap_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int fd;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_fd(env, argv[0], &fd)) return NULL;
  watcher_t *w = find_watcher(fd);
  if (w) stop_watcher(w, 1);
  int rc = close(fd);
  napi_value result;
  CHECK(env, napi_get_boolean(env, rc == 0, &result));
  return result;
}

static void cleanup(void *arg) {
  napi_env env = arg;
  for (int i = 0; i < MAX_WATCHERS; i++) {
    watcher_t *w = watchers[i];
    if (w && w->env == env) {
      int fd = w->fd;
      stop_watcher(w, 1);
      close(fd);
    }
  }
}

/* ---- module ---------------------------------------------------------------------------------- */

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, tap_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifname", NULL, tap_ifname, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watch", NULL, tap_watch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ref", NULL, tap_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, tap_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, tap_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_value max_batch;
  napi_create_int32(env, MAX_BATCH, &max_batch);
  napi_set_named_property(env, exports, "MAX_BATCH", max_batch);
  napi_add_env_cleanup_hook(env, cleanup, env);
  return exports;
}
