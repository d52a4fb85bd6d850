/* staticserve._speedups: the per-request fast path in C (optional).
 *
 * Why C: after every pure-Python saving, the fast path still ran ~130
 * bytecodes per request over a header-matched replay of the same answer, 5-12 %
 * of a whole request on granian (benchmarks/results/instructions.md, issue
 * 14).  This module does the same work without the interpreter:
 *
 *   Lookup.asgi(scope, send) / Lookup.wsgi(environ, start_response)
 *       StaticFiles.find() + http.respond_plain() + the adapter's message
 *       building, for the usual request.  Returns
 *         a tuple      the answer: ASGI (start message, body message),
 *                      WSGI (status line, header list, [body]);
 *         None         not ours: hand the request to the app as it is;
 *         a callable   a plain miss under a marked prefix: hand it to the app
 *                      with this in place of send / start_response (the miss
 *                      marking of asgi._marking_send / wsgi._marking_start_response);
 *         False        anything else: the adapter's pure-Python path decides.
 *
 * ASGIFront / WSGIFront (below, "the fronts") are the adapters' base classes:
 * their call asks a Lookup and acts on its answer in C, so that a hit runs no
 * bytecode; the adapters' Python ``_serve`` gets the rest.
 *
 * A Lookup holds the tables of one StaticFiles; StaticFiles.add_files calls
 * its __init__ again with the new prefixes, so the fronts holding it
 * follow.  The Python code stays the reference: it is what runs when this
 * module is not built (or STATICSERVE_NO_SPEEDUPS is set), and
 * tests/test_speedups.py checks, with Hypothesis, that both paths send the
 * same bytes for any request.  This file decides nothing the Python does not:
 * whatever it is unsure of returns False.  It reads the Python objects
 * (Resource, Variant, Plan) by their __slots__ (see get()) and calls back into
 * Python for the rare steps (a first negotiation, a lazily built HEAD or 304
 * plan, a plan's first WSGI header strings).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stddef.h>
#include <string.h>
#ifdef __linux__
#include <time.h>
#endif

static PyObject *s_type, *s_http, *s_path, *s_root_path, *s_method, *s_headers, *s_status,
    *s_body, *s_start, *s_body_type, *s_checked_at, *s_variants, *s_negotiated, *s_etag,
    *s_plan_get, *s_plan_head, *s_plan_not_modified, *s_head_plan, *s_not_modified_plan,
    *s_status_line, *s_str_headers, *s_path_info, *s_request_method, *s_http_range,
    *s_http_if_match, *s_http_if_unmodified_since, *s_http_accept_encoding,
    *s_http_if_none_match, *s_http_if_modified_since, *s_slash, *s_monotonic, *s_str_headers_slot;

/* ------------------------------------------------------- slot attributes */

/* Resource, Variant and Plan keep their fields in __slots__; reading one at
 * its offset skips the generic attribute machinery (the most of this file's
 * cost per request).  The offset is learned from the first type seen, which
 * is then held so that its address cannot be reused; any other type goes
 * through PyObject_GetAttr. */
enum {
    A_CHECKED_AT, A_VARIANTS, A_NEGOTIATED, A_ETAG, A_PLAN_GET, A_PLAN_HEAD,
    A_PLAN_NOT_MODIFIED, A_BODY, A_STATUS, A_STATUS_LINE, A_HEADERS, A_STR_HEADERS, A_COUNT
};
static PyObject **slot_names[A_COUNT] = {
    &s_checked_at, &s_variants, &s_negotiated, &s_etag, &s_plan_get, &s_plan_head,
    &s_plan_not_modified, &s_body, &s_status, &s_status_line, &s_headers, &s_str_headers_slot,
};
static struct {
    PyTypeObject *type; /* a strong reference once learned */
    Py_ssize_t offset;
    int learned;
} slots[A_COUNT];

static void
learn_slot(PyTypeObject *type, int which)
{
    slots[which].learned = 1;
    PyObject *descr = PyObject_GetAttr((PyObject *)type, *slot_names[which]);
    if (descr == NULL) {
        PyErr_Clear();
        return;
    }
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type == T_OBJECT_EX && !(member->flags & READ_RESTRICTED) &&
            PyType_IsSubtype(type, PyDescr_TYPE(descr))) {
            slots[which].type = (PyTypeObject *)Py_NewRef((PyObject *)type);
            slots[which].offset = member->offset;
        }
    }
    Py_DECREF(descr);
}

/* ``obj.<which>``: a new reference, or NULL with an exception set. */
static PyObject *
get(PyObject *obj, int which)
{
    if (!slots[which].learned)
        learn_slot(Py_TYPE(obj), which);
    if (Py_TYPE(obj) == slots[which].type) {
        PyObject *value = *(PyObject **)((char *)obj + slots[which].offset);
        if (value != NULL)
            return Py_NewRef(value);
    }
    return PyObject_GetAttr(obj, *slot_names[which]);
}

/* ``text == expected`` for an interned ASCII ``expected``: by identity, else
 * by length and bytes (a server's message types are rarely the same object). */
static int
same_ascii(PyObject *text, PyObject *expected)
{
    if (text == expected)
        return 1;
    if (!PyUnicode_CheckExact(text))
        return PyUnicode_Check(text) && PyUnicode_Compare(text, expected) == 0;
    return PyUnicode_IS_COMPACT_ASCII(text) &&
           PyUnicode_GET_LENGTH(text) == PyUnicode_GET_LENGTH(expected) &&
           memcmp(PyUnicode_1BYTE_DATA(text), PyUnicode_1BYTE_DATA(expected),
                  PyUnicode_GET_LENGTH(text)) == 0;
}

/* ------------------------------------------------------------------ Lookup */

typedef struct {
    PyObject_HEAD
    PyObject *entries;        /* dict: URL path -> Resource | other entry */
    PyObject *pending;        /* dict: URL path -> not yet loaded file */
    PyObject *gone;           /* dict: URL path -> monotonic() when found missing */
    PyObject *prefixes;       /* tuple of str */
    PyObject *miss_prefixes;  /* tuple of str */
    PyObject *resource_type;  /* staticserve.resource.Resource */
    PyObject *clock;          /* a module's globals: its "monotonic" is the clock */
    PyObject *select_variant; /* staticserve.http.select_variant */
    PyObject *miss_header;    /* (name, value): bytes pair, or NULL */
    PyObject *miss_header_str;/* (name, value): str pair, or NULL */
    double fresh_for;
    double recheck_interval;
    int recheck;
    int fallbacks;
    int miss_everywhere; /* miss_prefixes == prefixes: every miss is marked */
} Lookup;

enum { FOUND_ERROR = -1, FOUND_GENERAL, FOUND_MISS, FOUND_HIT };

/* The clock as staticserve.service sees it: looked up on every call, as a
 * global is (tests move it by hand). */
static PyObject *time_monotonic; /* time.monotonic itself */

static int
now(Lookup *self, double *out)
{
    PyObject *fn = PyDict_GetItemWithError(self->clock, s_monotonic);
    if (fn == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "staticserve: no monotonic clock");
        return -1;
    }
#ifdef __linux__
    /* CPython's time.monotonic() is this clock on Linux: read it directly. */
    struct timespec ts;
    if (fn == time_monotonic && clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
        *out = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
        return 0;
    }
#endif
    PyObject *t = PyObject_CallNoArgs(fn);
    if (t == NULL)
        return -1;
    *out = PyFloat_AsDouble(t);
    Py_DECREF(t);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* StaticFiles.find(): FOUND_HIT sets *resource (a new reference). */
static int
find(Lookup *self, PyObject *path, PyObject **resource)
{
    PyObject *entry = PyDict_GetItemWithError(self->entries, path);
    double t;
    if (entry == NULL) {
        if (PyErr_Occurred())
            return FOUND_ERROR;
        if (!self->recheck)
            return FOUND_GENERAL;
        int known = PyDict_Contains(self->pending, path);
        if (known < 0)
            return FOUND_ERROR;
        if (!known)
            return FOUND_MISS;
        PyObject *gone_at = PyDict_GetItemWithError(self->gone, path);
        if (gone_at == NULL)
            return PyErr_Occurred() ? FOUND_ERROR : FOUND_GENERAL;
        double at = PyFloat_AsDouble(gone_at);
        if ((at == -1.0 && PyErr_Occurred()) || now(self, &t) < 0)
            return FOUND_ERROR;
        return t - at < self->recheck_interval ? FOUND_MISS : FOUND_GENERAL;
    }
    if ((PyObject *)Py_TYPE(entry) != self->resource_type)
        return FOUND_GENERAL;
    Py_INCREF(entry);
    PyObject *checked = get(entry, A_CHECKED_AT);
    if (checked == NULL)
        goto error;
    double at = PyFloat_AsDouble(checked);
    Py_DECREF(checked);
    if ((at == -1.0 && PyErr_Occurred()) || now(self, &t) < 0)
        goto error;
    if (t - at < self->fresh_for) {
        *resource = entry;
        return FOUND_HIT;
    }
    Py_DECREF(entry);
    return FOUND_GENERAL;
error:
    Py_DECREF(entry);
    return FOUND_ERROR;
}

static int
starts_with_any(PyObject *path, PyObject *prefixes)
{
    Py_ssize_t n = PyTuple_GET_SIZE(prefixes);
    Py_ssize_t length = PyUnicode_GET_LENGTH(path);
    int kind = PyUnicode_KIND(path);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *prefix = PyTuple_GET_ITEM(prefixes, i);
        Py_ssize_t r;
        if (PyUnicode_KIND(prefix) == kind) /* the usual case: compare the storage */
            r = PyUnicode_GET_LENGTH(prefix) <= length &&
                memcmp(PyUnicode_DATA(path), PyUnicode_DATA(prefix),
                       (size_t)PyUnicode_GET_LENGTH(prefix) * kind) == 0;
        else
            r = PyUnicode_Tailmatch(path, prefix, 0, PY_SSIZE_T_MAX, -1);
        if (r != 0)
            return (int)r; /* 1, or -1 on error */
    }
    return 0;
}

/* A lazily built plan: the slot's value, or the builder's result when None. */
static PyObject *
plan_attr(PyObject *variant, int slot, PyObject *builder)
{
    PyObject *plan = get(variant, slot);
    if (plan == NULL)
        return NULL;
    if (plan != Py_None)
        return plan;
    Py_DECREF(plan);
    return PyObject_CallMethodNoArgs(variant, builder);
}

/* An If-None-Match value equal to the variant's tag: bytes (ASGI, latin-1) or str. */
static int
tag_equals(PyObject *value, PyObject *etag)
{
    if (!PyUnicode_Check(etag))
        return 0;
    if (PyBytes_Check(value)) {
        /* latin-1 maps byte b to code point b, as a 1-byte-kind str stores it */
        if (PyUnicode_KIND(etag) != PyUnicode_1BYTE_KIND)
            return 0;
        Py_ssize_t n = PyBytes_GET_SIZE(value);
        return n == PyUnicode_GET_LENGTH(etag) &&
               memcmp(PyBytes_AS_STRING(value), PyUnicode_1BYTE_DATA(etag), n) == 0;
    }
    if (PyUnicode_Check(value))
        return PyUnicode_Compare(value, etag) == 0 ? 1 : (PyErr_Occurred() ? -1 : 0);
    return 0;
}

/* The first-seen object equal to an Accept-Encoding value (bytes or str).
 * Clients send a handful of distinct values, each request in a new object:
 * looked up in a resource's ``negotiated`` table, a new object costs a hash
 * and a compare with the key, the object that was stored as the key neither.
 * A borrowed reference; ``value`` itself when it is new (then remembered,
 * the oldest forgotten) or too long to keep. */
#define ACCEPTS_KEPT 8
#define ACCEPT_KEPT_MAX 256 /* http._NEGOTIATED_KEY_MAX: no hostile giants */
static PyObject *accepts[ACCEPTS_KEPT];
static int accepts_next;

/* The text of a value the cache may keep: exact bytes, or an exact compact
 * ASCII str (how servers pass the header), at most ACCEPT_KEPT_MAX long. */
static int
keepable_text(PyObject *value, const char **text, Py_ssize_t *n)
{
    if (PyBytes_CheckExact(value)) {
        *text = PyBytes_AS_STRING(value);
        *n = PyBytes_GET_SIZE(value);
    }
    else if (PyUnicode_CheckExact(value) && PyUnicode_IS_COMPACT_ASCII(value)) {
        *text = (const char *)PyUnicode_1BYTE_DATA(value);
        *n = PyUnicode_GET_LENGTH(value);
    }
    else
        return 0;
    return *n <= ACCEPT_KEPT_MAX;
}

static PyObject *
known_accept(PyObject *value)
{
    const char *text, *kept_text;
    Py_ssize_t n, kept_n;
    if (!keepable_text(value, &text, &n))
        return value;
    for (int i = 0; i < ACCEPTS_KEPT && accepts[i] != NULL; i++) {
        PyObject *kept = accepts[i];
        if (kept == value || (Py_TYPE(kept) == Py_TYPE(value) &&
                              keepable_text(kept, &kept_text, &kept_n) && kept_n == n &&
                              memcmp(kept_text, text, n) == 0))
            return kept;
    }
    Py_XSETREF(accepts[accepts_next], Py_NewRef(value));
    accepts_next = (accepts_next + 1) % ACCEPTS_KEPT;
    return value;
}

/* _speedups.kept_accept(value): the object known_accept() answers for it.
 * http.select_variant() stores this as the negotiation table's key, also when
 * the Python path negotiates first (a file's first request always does): the
 * lookup then meets its own key and compares no bytes (about 170 instructions
 * a request on a real server, whose header values are new objects). */
static PyObject *
kept_accept(PyObject *module, PyObject *value)
{
    return Py_NewRef(known_accept(value));
}

/* http.respond_plain(): a new reference to the Plan, Py_False (new ref) for
 * the general path, NULL on error.  ``tag`` and ``ims`` may be NULL (absent). */
static PyObject *
respond_plain(Lookup *self, PyObject *resource, int head, PyObject *accept, PyObject *tag,
              int ims)
{
    PyObject *variant = NULL, *plan = NULL;
    PyObject *variants = get(resource, A_VARIANTS);
    if (variants == NULL)
        return NULL;
    PyObject *negotiated = get(resource, A_NEGOTIATED);
    if (negotiated == NULL)
        goto done;
    accept = known_accept(accept);
    PyObject *position = PyDict_Check(negotiated)
                             ? PyDict_GetItemWithError(negotiated, accept)
                             : NULL;
    if (position != NULL && PyLong_CheckExact(position) && PyTuple_CheckExact(variants)) {
        Py_ssize_t i = PyLong_AsSsize_t(position);
        if (i >= 0 && i < PyTuple_GET_SIZE(variants)) {
            variant = PyTuple_GET_ITEM(variants, i);
            Py_INCREF(variant);
        }
    }
    Py_DECREF(negotiated);
    if (PyErr_Occurred())
        goto done;
    if (variant == NULL) {
        variant = PyObject_CallFunctionObjArgs(self->select_variant, resource, accept, NULL);
        if (variant == NULL)
            goto done;
    }
    if (tag != NULL) {
        PyObject *etag = get(variant, A_ETAG);
        if (etag == NULL)
            goto done;
        int same = tag_equals(tag, etag);
        Py_DECREF(etag);
        if (same < 0)
            goto done;
        plan = same ? plan_attr(variant, A_PLAN_NOT_MODIFIED, s_not_modified_plan)
                    : Py_NewRef(Py_False);
    }
    else if (ims)
        plan = Py_NewRef(Py_False);
    else if (head)
        plan = plan_attr(variant, A_PLAN_HEAD, s_head_plan);
    else
        plan = get(variant, A_PLAN_GET);
done:
    Py_XDECREF(variant);
    Py_DECREF(variants);
    return plan;
}

#define NAME_IS(p, n, lit) ((n) == (Py_ssize_t)sizeof(lit) - 1 && memcmp((p), lit, (n)) == 0)

/* 1 GET, 2 HEAD, 0 anything else (the general path answers those). */
static int
method_kind(PyObject *method)
{
    if (method == NULL || !PyUnicode_Check(method))
        return 0;
    if (PyUnicode_IS_COMPACT_ASCII(method)) { /* what servers make: compare the bytes */
        const char *p = (const char *)PyUnicode_1BYTE_DATA(method);
        Py_ssize_t n = PyUnicode_GET_LENGTH(method);
        return NAME_IS(p, n, "GET") ? 1 : NAME_IS(p, n, "HEAD") ? 2 : 0;
    }
    if (PyUnicode_CompareWithASCIIString(method, "GET") == 0)
        return 1;
    if (PyUnicode_CompareWithASCIIString(method, "HEAD") == 0)
        return 2;
    return 0;
}

/* The plan's body (with its status or status line) when it is bytes held in
 * memory; Py_False for a file's plan; NULL on error.  New references. */
static PyObject *
memory_body(PyObject *plan, PyObject **status_or_line, int status_slot)
{
    PyObject *body = get(plan, A_BODY);
    if (body == NULL)
        return NULL;
    if (!PyBytes_CheckExact(body)) {
        Py_DECREF(body);
        return Py_NewRef(Py_False);
    }
    *status_or_line = get(plan, status_slot);
    if (*status_or_line == NULL) {
        Py_DECREF(body);
        return NULL;
    }
    return body;
}

/* The request path below root_path (asgi.route_path): a new reference. */
static PyObject *
asgi_route_path(PyObject *scope)
{
    PyObject *path = PyDict_GetItemWithError(scope, s_path);
    if (path == NULL || !PyUnicode_Check(path))
        return NULL;
    PyObject *root = PyDict_GetItemWithError(scope, s_root_path);
    if (root == NULL) {
        if (PyErr_Occurred())
            return NULL;
        return Py_NewRef(path);
    }
    if (!PyUnicode_Check(root))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(root);
    if (n == 0)
        return Py_NewRef(path);
    Py_ssize_t r = PyUnicode_Tailmatch(path, root, 0, PY_SSIZE_T_MAX, -1);
    if (r < 0)
        return NULL;
    if (r == 0)
        return Py_NewRef(path);
    Py_ssize_t len = PyUnicode_GET_LENGTH(path);
    if (len == n)
        return Py_NewRef(s_slash);
    if (PyUnicode_READ_CHAR(path, n) == '/')
        return PyUnicode_Substring(path, n, len);
    return Py_NewRef(path);
}

/* The three request headers the fast path reads.  0 on success, 1 when the
 * request is for the general path (a repeated one, one of
 * http.COMPLEX_HEADERS, an unexpected shape), -1 on error. */
static int
asgi_headers(PyObject *raw, PyObject **accept, PyObject **tag, int *ims)
{
    if (!PyList_CheckExact(raw) && !PyTuple_CheckExact(raw))
        return 1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(raw);
    PyObject **items = PySequence_Fast_ITEMS(raw);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = items[i];
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2)
            return 1;
        PyObject *name = PyTuple_GET_ITEM(item, 0);
        PyObject *value = PyTuple_GET_ITEM(item, 1);
        if (!PyBytes_CheckExact(name) || !PyBytes_CheckExact(value))
            return 1;
        Py_ssize_t len = PyBytes_GET_SIZE(name);
        const char *p = PyBytes_AS_STRING(name);
        if (len < 5 || len > 19 || (p[0] != 'a' && p[0] != 'i' && p[0] != 'r'))
            continue;
        if (NAME_IS(p, len, "accept-encoding")) {
            if (*accept != NULL)
                return 1;
            *accept = value;
        }
        else if (NAME_IS(p, len, "if-none-match")) {
            if (*tag != NULL)
                return 1;
            *tag = value;
        }
        else if (NAME_IS(p, len, "if-modified-since")) {
            if (*ims)
                return 1;
            *ims = 1;
        }
        else if (NAME_IS(p, len, "range") || NAME_IS(p, len, "if-match") ||
                 NAME_IS(p, len, "if-unmodified-since"))
            return 1;
    }
    return 0;
}

/* A new list of ``headers`` (a tuple or list): each response gets its own,
 * since a middleware outside may change it in place (Starlette's
 * MutableHeaders appends and deletes), which must not reach the next one. */
static PyObject *
fresh_list(PyObject *headers)
{
    if (!PyTuple_CheckExact(headers) && !PyList_CheckExact(headers))
        return PySequence_List(headers);
    Py_ssize_t n = PySequence_Fast_GET_SIZE(headers);
    PyObject **items = PySequence_Fast_ITEMS(headers);
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++)
        PyList_SET_ITEM(list, i, Py_NewRef(items[i]));
    return list;
}

/* The ASGI messages' shapes, copied per response: a copy costs about a third
 * of filling a new dict key by key.  The start's status is filled in for the
 * two the fast path sends (200, 304); no per-plan copy is kept, since a
 * worker holds thousands of plans (issue 14's memory budget). */
static PyObject *start_200, *start_304, *start_any, *body_shape;

static PyObject *
start_shape(PyObject *status)
{
    PyObject *shape;
    long code = PyLong_AsLong(status);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    shape = code == 200 ? start_200 : code == 304 ? start_304 : start_any;
    PyObject *start = PyDict_Copy(shape);
    if (start != NULL && shape == start_any && PyDict_SetItem(start, s_status, status) < 0)
        Py_CLEAR(start);
    return start;
}

static int
build_shapes(void)
{
    PyObject *ok = PyLong_FromLong(200), *not_modified = PyLong_FromLong(304);
    start_200 = PyDict_New();
    start_304 = PyDict_New();
    start_any = PyDict_New();
    body_shape = PyDict_New();
    int failed = ok == NULL || not_modified == NULL || start_200 == NULL || start_304 == NULL ||
                 start_any == NULL || body_shape == NULL;
    PyObject *starts[3] = {start_200, start_304, start_any};
    PyObject *codes[3] = {ok, not_modified, Py_None};
    for (int i = 0; i < 3 && !failed; i++)
        failed = PyDict_SetItem(starts[i], s_type, s_start) < 0 ||
                 PyDict_SetItem(starts[i], s_status, codes[i]) < 0 ||
                 PyDict_SetItem(starts[i], s_headers, Py_None) < 0;
    failed = failed || PyDict_SetItem(body_shape, s_type, s_body_type) < 0 ||
             PyDict_SetItem(body_shape, s_body, Py_None) < 0;
    Py_XDECREF(ok);
    Py_XDECREF(not_modified);
    return failed ? -1 : 0;
}

/* The awaitable an ASGI hit returns: ``await send(start); await send(body)``
 * as a coroutine in C (send, throw and close as a coroutine has them, so that
 * collections.abc.Coroutine and asyncio.iscoroutine accept it; the type is
 * below, with the fronts).  asgi_messages() makes it without a send, which
 * the front fills in: the two messages need no tuple to travel in. */
typedef struct {
    PyObject_HEAD
    PyObject *send;  /* NULL until the front sets it */
    PyObject *start; /* the messages, each NULL once it went to send: */
    PyObject *body;  /* both NULL, the Sending is done */
    PyObject *inner; /* the iterator of the send being awaited, or NULL */
} Sending;

static PyTypeObject SendingType;

/* A Sending of ``start`` and ``body`` (both stolen), no send yet. */
static PyObject *
sending_new(PyObject *start, PyObject *body)
{
    Sending *s = PyObject_GC_New(Sending, &SendingType);
    if (s == NULL) {
        Py_DECREF(start);
        Py_DECREF(body);
        return NULL;
    }
    s->send = NULL;
    s->start = start;
    s->body = body;
    s->inner = NULL;
    PyObject_GC_Track(s);
    return (PyObject *)s;
}

static PyObject *
asgi_messages(PyObject *plan)
{
    PyObject *status = NULL, *start = NULL, *message = NULL, *result = NULL, *list = NULL;
    PyObject *body = memory_body(plan, &status, A_STATUS);
    if (body == NULL || body == Py_False)
        return body;
    PyObject *headers = get(plan, A_HEADERS);
    list = headers == NULL ? NULL : fresh_list(headers);
    start = list == NULL ? NULL : start_shape(status);
    message = start == NULL ? NULL : PyDict_Copy(body_shape);
    if (message == NULL || PyDict_SetItem(start, s_headers, list) < 0 ||
        PyDict_SetItem(message, s_body, body) < 0)
        goto done;
    result = sending_new(start, message);
    start = message = NULL;
done:
    Py_XDECREF(headers);
    Py_XDECREF(list);
    Py_XDECREF(start);
    Py_XDECREF(message);
    Py_DECREF(status);
    Py_DECREF(body);
    return result;
}

static PyObject *marking_new(PyTypeObject *type, PyObject *target, PyObject *header,
                             vectorcallfunc call);
static PyObject *MarkingSend_call(PyObject *, PyObject *const *, size_t, PyObject *);
static PyObject *MarkingStart_call(PyObject *, PyObject *const *, size_t, PyObject *);
static PyTypeObject MarkingSendType, MarkingStartType;

/* ``target`` (send / start_response) wrapped to mark the app's error answer. */
static PyObject *
marked(Lookup *self, PyObject *target, int asgi)
{
    if (asgi)
        return marking_new(&MarkingSendType, target, self->miss_header, MarkingSend_call);
    return marking_new(&MarkingStartType, target, self->miss_header_str, MarkingStart_call);
}

/* Where ``path`` goes: a new reference to None / False / ``target`` marked
 * (see the module docstring); or NULL with ``*resource`` set (a new
 * reference) for a fresh hit; or NULL with an exception set. */
static PyObject *
route(Lookup *self, PyObject *path, PyObject *target, int asgi, PyObject **resource)
{
    *resource = NULL;
    int under = starts_with_any(path, self->prefixes);
    if (under <= 0)
        return under < 0 ? NULL : Py_NewRef(Py_None);
    int found = find(self, path, resource);
    if (found == FOUND_ERROR || found == FOUND_HIT)
        return NULL;
    if (found == FOUND_GENERAL || self->fallbacks)
        return Py_NewRef(Py_False);
    int mark = self->miss_everywhere ? 1 : starts_with_any(path, self->miss_prefixes);
    if (mark < 0)
        return NULL;
    if (!mark || (asgi ? self->miss_header : self->miss_header_str) == NULL)
        return Py_NewRef(Py_None);
    return marked(self, target, asgi);
}

/* A hit's answer (``resource`` is consumed): the protocol's tuple, or False. */
static PyObject *
respond(Lookup *self, PyObject *resource, int method, PyObject *accept, PyObject *tag, int ims,
        int general, PyObject *(*messages)(PyObject *))
{
    if (general || method == 0) {
        Py_DECREF(resource);
        return Py_NewRef(Py_False);
    }
    PyObject *plan = respond_plain(self, resource, method == 2, accept, tag, ims);
    Py_DECREF(resource);
    if (plan == NULL || plan == Py_False)
        return plan;
    PyObject *result = messages(plan);
    Py_DECREF(plan);
    return result;
}

static PyObject *
Lookup_asgi(Lookup *self, PyObject *scope, PyObject *send)
{
    if (!PyDict_Check(scope))
        Py_RETURN_FALSE;
    PyObject *kind = PyDict_GetItemWithError(scope, s_type);
    if (kind == NULL || !same_ascii(kind, s_http)) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_FALSE;
    }
    PyObject *path = asgi_route_path(scope);
    if (path == NULL) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_FALSE;
    }
    PyObject *resource;
    PyObject *where = route(self, path, send, 1, &resource);
    Py_DECREF(path);
    if (resource == NULL)
        return where;
    /* A hit: now the headers (a miss reads none). */
    PyObject *accept = NULL, *tag = NULL;
    int ims = 0, general = 1;
    int method = method_kind(PyDict_GetItemWithError(scope, s_method));
    PyObject *raw = PyErr_Occurred() ? NULL : PyDict_GetItemWithError(scope, s_headers);
    if (raw != NULL)
        general = asgi_headers(raw, &accept, &tag, &ims);
    if (PyErr_Occurred() || general < 0) {
        Py_DECREF(resource);
        return NULL;
    }
    return respond(self, resource, method, accept == NULL ? Py_None : accept, tag, ims, general,
                   asgi_messages);
}

static PyObject *
wsgi_response(PyObject *plan)
{
    PyObject *line = NULL, *headers = NULL, *body_list = NULL, *result = NULL;
    PyObject *body = memory_body(plan, &line, A_STATUS_LINE);
    if (body == NULL || body == Py_False)
        return body;
    /* Plan.str_headers() without the call: a copy of the cached list. */
    PyObject *cached = get(plan, A_STR_HEADERS);
    if (cached == NULL)
        goto done;
    headers = PyList_CheckExact(cached) ? PyList_GetSlice(cached, 0, PyList_GET_SIZE(cached))
                                        : PyObject_CallMethodNoArgs(plan, s_str_headers);
    Py_DECREF(cached);
    body_list = PyList_New(1);
    if (headers == NULL || body_list == NULL)
        goto done;
    PyList_SET_ITEM(body_list, 0, Py_NewRef(body));
    result = PyTuple_Pack(3, line, headers, body_list);
done:
    Py_XDECREF(headers);
    Py_XDECREF(body_list);
    Py_DECREF(line);
    Py_DECREF(body);
    return result;
}

static PyObject *
Lookup_wsgi(Lookup *self, PyObject *environ, PyObject *start_response)
{
    if (!PyDict_Check(environ))
        Py_RETURN_FALSE;
    PyObject *path = PyDict_GetItemWithError(environ, s_path_info);
    if (path == NULL) {
        if (PyErr_Occurred())
            return NULL;
        Py_RETURN_FALSE; /* no PATH_INFO: the adapter's "/" rule */
    }
    /* A non-ASCII path is UTF-8 read as latin-1 (PEP 3333): the adapter decodes it. */
    if (!PyUnicode_CheckExact(path) || !PyUnicode_IS_ASCII(path) ||
        PyUnicode_GET_LENGTH(path) == 0)
        Py_RETURN_FALSE;
    Py_INCREF(path); /* the environ is the app's: keep the path while we look */
    PyObject *resource;
    PyObject *where = route(self, path, start_response, 0, &resource);
    Py_DECREF(path);
    if (resource == NULL)
        return where;
    int general = 0;
    PyObject *probe[] = {s_http_range, s_http_if_match, s_http_if_unmodified_since};
    for (int i = 0; i < 3 && !general; i++) {
        general = PyDict_Contains(environ, probe[i]);
        if (general < 0) {
            Py_DECREF(resource);
            return NULL;
        }
    }
    PyObject *method = PyDict_GetItemWithError(environ, s_request_method);
    PyObject *accept = NULL, *tag = NULL, *ims = NULL;
    if (!PyErr_Occurred())
        accept = PyDict_GetItemWithError(environ, s_http_accept_encoding);
    if (!PyErr_Occurred())
        tag = PyDict_GetItemWithError(environ, s_http_if_none_match);
    if (!PyErr_Occurred())
        ims = PyDict_GetItemWithError(environ, s_http_if_modified_since);
    if (PyErr_Occurred()) {
        Py_DECREF(resource);
        return NULL;
    }
    int kind = method == NULL ? 1 : method_kind(method);
    if (tag == Py_None)
        tag = NULL;
    /* Borrowed from the environ, which nothing here can change before use. */
    return respond(self, resource, kind, accept == NULL ? Py_None : accept, tag,
                   ims != NULL && ims != Py_None, general, wsgi_response);
}

/* ------------------------------------------------------------ the marking */

typedef struct {
    PyObject_HEAD
    PyObject *target;  /* send / start_response */
    PyObject *header;  /* the (name, value) pair to add */
    vectorcallfunc vectorcall;
    int started;       /* an ASGI start has gone out: the rest passes untouched */
} Marking;

static PyObject *
marking_new(PyTypeObject *type, PyObject *target, PyObject *header, vectorcallfunc call)
{
    Marking *m = PyObject_GC_New(Marking, type);
    if (m == NULL)
        return NULL;
    m->target = Py_NewRef(target);
    m->header = Py_NewRef(header);
    m->vectorcall = call;
    m->started = 0;
    PyObject_GC_Track(m);
    return (PyObject *)m;
}

static int
Marking_traverse(Marking *m, visitproc visit, void *arg)
{
    Py_VISIT(m->target);
    Py_VISIT(m->header);
    return 0;
}

static int
Marking_clear(Marking *m)
{
    Py_CLEAR(m->target);
    Py_CLEAR(m->header);
    return 0;
}

static void
Marking_dealloc(Marking *m)
{
    PyObject_GC_UnTrack(m);
    Marking_clear(m);
    PyObject_GC_Del(m);
}

static int is_cache_control(PyObject *name, int as_bytes);

/* 1 when ``headers`` (a list or tuple) names Cache-Control in any case,
 * 0 when not, -1 on error; ``as_bytes`` picks the ASGI or the WSGI form. */
static int
has_cache_control(PyObject *headers, int as_bytes)
{
    /* Size and item are read again each time: an item's __getitem__ is Python. */
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(headers); i++) {
        PyObject *item = Py_NewRef(PySequence_Fast_GET_ITEM(headers, i));
        PyObject *name;
        if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) >= 1)
            name = Py_NewRef(PyTuple_GET_ITEM(item, 0));
        else
            name = PySequence_GetItem(item, 0);
        Py_DECREF(item);
        if (name == NULL)
            return -1;
        int found = is_cache_control(name, as_bytes);
        Py_DECREF(name);
        if (found)
            return 1;
    }
    return 0;
}

static int
is_cache_control(PyObject *name, int as_bytes)
{
    const char *p;
    Py_ssize_t len;
    if (as_bytes) {
        if (!PyBytes_Check(name))
            return 0;
        p = PyBytes_AS_STRING(name);
        len = PyBytes_GET_SIZE(name);
    }
    else {
        if (!PyUnicode_Check(name) || !PyUnicode_IS_ASCII(name))
            return 0;
        p = (const char *)PyUnicode_1BYTE_DATA(name);
        len = PyUnicode_GET_LENGTH(name);
    }
    return len == 13 && PyOS_strnicmp(p, "cache-control", 13) == 0;
}

/* ``headers`` + [header], as a new list; NULL on error. */
static PyObject *
with_header(PyObject *fast, PyObject *header)
{
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    PyObject *list = PyList_New(n + 1);
    if (list == NULL)
        return NULL;
    PyObject **items = PySequence_Fast_ITEMS(fast);
    for (Py_ssize_t i = 0; i < n; i++)
        PyList_SET_ITEM(list, i, Py_NewRef(items[i]));
    PyList_SET_ITEM(list, n, Py_NewRef(header));
    return list;
}

/* A message's "type", "status" and "headers" (borrowed; NULL where absent),
 * in one pass over its few keys instead of three lookups: an app's keys are
 * the interned names, compared by identity, else by their text. */
static void
start_fields(PyObject *message, PyObject **kind, PyObject **status, PyObject **headers)
{
    *kind = *status = *headers = NULL;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(message, &pos, &key, &value)) {
        PyObject **field = key == s_type                ? kind
                           : key == s_status            ? status
                           : key == s_headers           ? headers
                           : same_ascii(key, s_type)    ? kind
                           : same_ascii(key, s_status)  ? status
                           : same_ascii(key, s_headers) ? headers
                                                        : NULL;
        if (field != NULL)
            *field = value;
    }
}

/* The ASGI send: an error start without Cache-Control gets the header (on a
 * copy of the message: an app may send the same dict every time). */
static PyObject *
MarkingSend_call(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Marking *m = (Marking *)callable;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL)
        return PyObject_Vectorcall(m->target, args, nargsf, kwnames);
    PyObject *message = args[0];
    if (m->started || !PyDict_Check(message))
        return PyObject_CallOneArg(m->target, message);
    PyObject *kind, *status, *headers;
    start_fields(message, &kind, &status, &headers);
    if (kind == NULL || !same_ascii(kind, s_start))
        goto pass;
    m->started = 1;
    if (status == NULL || !PyLong_Check(status))
        goto pass;
    int overflow;
    long code = PyLong_AsLongAndOverflow(status, &overflow);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    if (overflow < 0 || (overflow == 0 && code < 400))
        goto pass;
    PyObject *fast = (headers == NULL || headers == Py_None)
                         ? PyTuple_New(0)
                         : PySequence_Fast(headers, "ASGI response headers must be iterable");
    if (fast == NULL)
        return NULL;
    int has = has_cache_control(fast, 1);
    PyObject *copy = NULL, *list = NULL, *result = NULL;
    if (has < 0)
        goto done;
    if (has) {
        result = PyObject_CallOneArg(m->target, message);
        goto done;
    }
    list = with_header(fast, m->header);
    copy = list == NULL ? NULL : PyDict_Copy(message);
    if (copy == NULL || PyDict_SetItem(copy, s_headers, list) < 0)
        goto done;
    result = PyObject_CallOneArg(m->target, copy);
done:
    Py_XDECREF(copy);
    Py_XDECREF(list);
    Py_DECREF(fast);
    return result;
pass:
    if (PyErr_Occurred())
        return NULL;
    return PyObject_CallOneArg(m->target, message);
}

/* The WSGI start_response(status, headers, exc_info=None). */
static PyObject *
MarkingStart_call(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Marking *m = (Marking *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *exc_info = Py_None;
    if (kwnames != NULL) {
        /* start_response(status, headers, exc_info=...) */
        if (nargs != 2 || PyTuple_GET_SIZE(kwnames) != 1 ||
            PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "exc_info") != 0)
            return PyObject_Vectorcall(m->target, args, nargsf, kwnames);
        exc_info = args[2];
    }
    else if (nargs == 3)
        exc_info = args[2];
    if (nargs < 2 || nargs > 3 || !PyUnicode_Check(args[0]) ||
        PyUnicode_GET_LENGTH(args[0]) == 0 || !(PyList_Check(args[1]) || PyTuple_Check(args[1])))
        return PyObject_Vectorcall(m->target, args, nargsf, kwnames);
    Py_UCS4 first = PyUnicode_READ_CHAR(args[0], 0);
    PyObject *call[3] = {args[0], args[1], exc_info};
    if (first == '4' || first == '5') {
        int has = has_cache_control(args[1], 0);
        if (has < 0)
            return NULL;
        if (!has) {
            PyObject *list = with_header(args[1], m->header);
            if (list == NULL)
                return NULL;
            call[1] = list;
            PyObject *result = PyObject_Vectorcall(m->target, call, 3, NULL);
            Py_DECREF(list);
            return result;
        }
    }
    return PyObject_Vectorcall(m->target, call, 3, NULL);
}

static PyTypeObject MarkingSendType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "staticserve._speedups.MarkingSend",
    .tp_basicsize = sizeof(Marking),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "ASGI send adding the miss Cache-Control to an error start without one.",
    .tp_vectorcall_offset = offsetof(Marking, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_traverse = (traverseproc)Marking_traverse,
    .tp_clear = (inquiry)Marking_clear,
    .tp_dealloc = (destructor)Marking_dealloc,
};

static PyTypeObject MarkingStartType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "staticserve._speedups.MarkingStartResponse",
    .tp_basicsize = sizeof(Marking),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "WSGI start_response adding the miss Cache-Control to an error without one.",
    .tp_vectorcall_offset = offsetof(Marking, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_traverse = (traverseproc)Marking_traverse,
    .tp_clear = (inquiry)Marking_clear,
    .tp_dealloc = (destructor)Marking_dealloc,
};

/* ------------------------------------------------------- Lookup, the type */

static int
Lookup_init(Lookup *self, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"entries", "pending", "gone", "prefixes", "miss_prefixes",
                            "fresh_for", "recheck", "recheck_interval", "fallbacks",
                            "resource_type", "clock", "select_variant", "miss_header",
                            "miss_header_str", NULL};
    PyObject *entries, *pending, *gone, *prefixes, *miss_prefixes, *resource_type, *clock,
        *select_variant, *miss_header, *miss_header_str;
    double fresh_for, recheck_interval;
    int recheck, fallbacks;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwds, "O!O!O!O!O!dpdpOO!OOO", names, &PyDict_Type, &entries, &PyDict_Type,
            &pending, &PyDict_Type, &gone, &PyTuple_Type, &prefixes, &PyTuple_Type,
            &miss_prefixes, &fresh_for, &recheck, &recheck_interval, &fallbacks,
            &resource_type, &PyDict_Type, &clock, &select_variant, &miss_header, &miss_header_str))
        return -1;
    if (!PyType_Check(resource_type)) {
        PyErr_SetString(PyExc_TypeError, "resource_type must be a type");
        return -1;
    }
    Py_ssize_t np = PyTuple_GET_SIZE(prefixes), nm = PyTuple_GET_SIZE(miss_prefixes);
    for (Py_ssize_t i = 0; i < np + nm; i++) {
        PyObject *p =
            i < np ? PyTuple_GET_ITEM(prefixes, i) : PyTuple_GET_ITEM(miss_prefixes, i - np);
        if (!PyUnicode_Check(p)) {
            PyErr_SetString(PyExc_TypeError, "prefixes must be str");
            return -1;
        }
    }
    Py_XSETREF(self->entries, Py_NewRef(entries));
    Py_XSETREF(self->pending, Py_NewRef(pending));
    Py_XSETREF(self->gone, Py_NewRef(gone));
    Py_XSETREF(self->prefixes, Py_NewRef(prefixes));
    Py_XSETREF(self->miss_prefixes, Py_NewRef(miss_prefixes));
    Py_XSETREF(self->resource_type, Py_NewRef(resource_type));
    Py_XSETREF(self->clock, Py_NewRef(clock));
    Py_XSETREF(self->select_variant, Py_NewRef(select_variant));
    Py_XSETREF(self->miss_header, miss_header == Py_None ? NULL : Py_NewRef(miss_header));
    Py_XSETREF(self->miss_header_str,
               miss_header_str == Py_None ? NULL : Py_NewRef(miss_header_str));
    self->fresh_for = fresh_for;
    self->recheck = recheck;
    self->recheck_interval = recheck_interval;
    self->fallbacks = fallbacks;
    self->miss_everywhere = PyObject_RichCompareBool(prefixes, miss_prefixes, Py_EQ);
    return self->miss_everywhere < 0 ? -1 : 0;
}

static int
Lookup_traverse(Lookup *self, visitproc visit, void *arg)
{
    Py_VISIT(self->entries);
    Py_VISIT(self->pending);
    Py_VISIT(self->gone);
    Py_VISIT(self->prefixes);
    Py_VISIT(self->miss_prefixes);
    Py_VISIT(self->resource_type);
    Py_VISIT(self->clock);
    Py_VISIT(self->select_variant);
    Py_VISIT(self->miss_header);
    Py_VISIT(self->miss_header_str);
    return 0;
}

static int
Lookup_clear(Lookup *self)
{
    Py_CLEAR(self->entries);
    Py_CLEAR(self->pending);
    Py_CLEAR(self->gone);
    Py_CLEAR(self->prefixes);
    Py_CLEAR(self->miss_prefixes);
    Py_CLEAR(self->resource_type);
    Py_CLEAR(self->clock);
    Py_CLEAR(self->select_variant);
    Py_CLEAR(self->miss_header);
    Py_CLEAR(self->miss_header_str);
    return 0;
}

static void
Lookup_dealloc(Lookup *self)
{
    PyObject_GC_UnTrack(self);
    Lookup_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Lookup_not_ready(Lookup *self)
{
    PyErr_SetString(PyExc_RuntimeError, "Lookup used before __init__");
    return NULL;
}

static PyObject *
Lookup_asgi_checked(Lookup *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "asgi() takes 2 arguments");
        return NULL;
    }
    if (self->entries == NULL)
        return Lookup_not_ready(self);
    PyObject *answer = Lookup_asgi(self, args[0], args[1]);
    if (answer == NULL || !Py_IS_TYPE(answer, &SendingType))
        return answer;
    /* a hit: its (start, body) */
    PyObject *messages = PyTuple_Pack(2, ((Sending *)answer)->start, ((Sending *)answer)->body);
    Py_DECREF(answer);
    return messages;
}

static PyObject *
Lookup_wsgi_checked(Lookup *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "wsgi() takes 2 arguments");
        return NULL;
    }
    return self->entries == NULL ? Lookup_not_ready(self) : Lookup_wsgi(self, args[0], args[1]);
}

static PyMethodDef Lookup_methods[] = {
    {"asgi", (PyCFunction)(void (*)(void))Lookup_asgi_checked, METH_FASTCALL,
     "asgi(scope, send): the fast path's answer (see the module docstring)."},
    {"wsgi", (PyCFunction)(void (*)(void))Lookup_wsgi_checked, METH_FASTCALL,
     "wsgi(environ, start_response): the fast path's answer (see the module docstring)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject LookupType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "staticserve._speedups.Lookup",
    .tp_basicsize = sizeof(Lookup),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The per-request fast path over one StaticFiles' tables.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Lookup_init,
    .tp_traverse = (traverseproc)Lookup_traverse,
    .tp_clear = (inquiry)Lookup_clear,
    .tp_dealloc = (destructor)Lookup_dealloc,
    .tp_methods = Lookup_methods,
};

/* ------------------------------------------------------------ the fronts */

/* ASGIFront / WSGIFront: the base classes of the adapters (asgi.StaticServe,
 * wsgi.StaticServeWSGI), whose calls they are.  Why: a server calling an
 * instance of a Python class pays for the __call__ lookup and a Python frame
 * (and, for an ``async def``, a coroutine) before any work; with the call in
 * C, a hit runs no bytecode at all (issue 14: the cost per request over a
 * header-matched replay).  The call asks the Lookup in ``_fast`` and
 *   answers a hit itself (ASGI: a Sending, the awaitable of the two sends;
 *   WSGI: start_response, then the body list);
 *   returns the wrapped app's own call for a request that is not ours (with
 *   the marking send / start_response for a plain miss under the prefix);
 *   returns ``self._serve(...)``, the adapter's Python path, for everything
 *   else, and always when ``_fast`` is None (the pure-Python path). */

typedef struct {
    PyObject_HEAD
    PyObject *app;  /* the wrapped app, or None / NULL */
    PyObject *fast; /* a Lookup, or None / NULL: the Python path */
    vectorcallfunc vectorcall; /* the type's vectorcall, set by its first tp_call */
} Front;

static PyObject *s_serve;

static int
Front_traverse(Front *self, visitproc visit, void *arg)
{
    /* (a heap subclass's subtype_traverse visits the type) */
    Py_VISIT(self->app);
    Py_VISIT(self->fast);
    return 0;
}

static int
Front_clear(Front *self)
{
    Py_CLEAR(self->app);
    Py_CLEAR(self->fast);
    return 0;
}

/* (a heap subclass's subtype_dealloc calls this, then releases the type) */
static void
Front_dealloc(Front *self)
{
    PyObject_GC_UnTrack(self);
    Front_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Servers call the app with PyObject_Vectorcall.  A class statement's
 * subclass of a vectorcall type does not inherit Py_TPFLAGS_HAVE_VECTORCALL
 * on CPython 3.11, so every call would first pack its arguments in a tuple for
 * tp_call (about 250 instructions a request).  tp_call therefore sets this
 * instance's vectorcall and, while the subclass's call is still the front's,
 * the flag on the subclass, and answers through it; later calls skip tp_call. */
static PyObject *
front_tp_call(Front *self, PyObject *args, PyObject *kwargs, ternaryfunc own,
              vectorcallfunc vectorcall)
{
    self->vectorcall = vectorcall;
    PyTypeObject *type = Py_TYPE(self);
    if (type->tp_call == own && type->tp_vectorcall_offset == offsetof(Front, vectorcall))
        type->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
    return PyVectorcall_Call((PyObject *)self, args, kwargs);
}

/* The vectorcall of a type whose __call__ was assigned after its flag was
 * set (3.12 drops the flag itself then): drop it, and call again by tp_call. */
static PyObject *
front_call_replaced(Front *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_TYPE(self)->tp_flags &= ~Py_TPFLAGS_HAVE_VECTORCALL;
    return PyObject_Vectorcall((PyObject *)self, args, nargsf, kwnames);
}

/* The adapter's Python path: ``self._serve(*args, **kwargs)``. */
static PyObject *
front_python(Front *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    Py_ssize_t total = nargs + (kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames));
    PyObject *small[8];
    PyObject **stack = total < 8 ? small : PyMem_Malloc((size_t)(total + 1) * sizeof(PyObject *));
    if (stack == NULL)
        return PyErr_NoMemory();
    stack[0] = (PyObject *)self;
    if (total > 0)
        memcpy(stack + 1, args, (size_t)total * sizeof(PyObject *));
    PyObject *result = PyObject_VectorcallMethod(s_serve, stack, (size_t)nargs + 1, kwnames);
    if (stack != small)
        PyMem_Free(stack);
    return result;
}

/* The Lookup to ask for this call, or NULL for the Python path. */
static Lookup *
front_lookup(Front *self, Py_ssize_t nargs, PyObject *kwnames, Py_ssize_t expected)
{
    if (kwnames != NULL || nargs != expected || self->fast == NULL ||
        !Py_IS_TYPE(self->fast, &LookupType) || ((Lookup *)self->fast)->entries == NULL)
        return NULL;
    return (Lookup *)self->fast;
}

/* Anything but a hit (``answer`` is consumed): the app's own call with
 * ``args`` (None: not ours), or with the marking in place of their last item
 * (a callable: a plain miss), or the Python path (False, or no app). */
static PyObject *
front_pass(Front *self, PyObject *answer, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *app = self->app;
    if (answer == Py_False || app == NULL || app == Py_None) {
        Py_DECREF(answer);
        return front_python(self, args, nargs, NULL);
    }
    Py_INCREF(app); /* the call may replace self.app */
    PyObject *result;
    if (answer == Py_None)
        result = PyObject_Vectorcall(app, args, (size_t)nargs, NULL);
    else {
        PyObject *stack[3];
        for (Py_ssize_t i = 0; i < nargs - 1; i++)
            stack[i] = args[i];
        stack[nargs - 1] = answer;
        result = PyObject_Vectorcall(app, stack, (size_t)nargs, NULL);
    }
    Py_DECREF(app);
    Py_DECREF(answer);
    return result;
}

/* ASGIFront(scope, receive, send) */
static PyObject *ASGIFront_call(Front *self, PyObject *args, PyObject *kwargs);

static PyObject *
ASGIFront_vectorcall(Front *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (Py_TYPE(self)->tp_call != (ternaryfunc)ASGIFront_call)
        return front_call_replaced(self, args, nargsf, kwnames);
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Lookup *lookup = front_lookup(self, nargs, kwnames, 3);
    if (lookup == NULL)
        return front_python(self, args, nargs, kwnames);
    PyObject *answer = Lookup_asgi(lookup, args[0], args[2]);
    if (answer == NULL)
        return NULL;
    if (Py_IS_TYPE(answer, &SendingType)) {
        ((Sending *)answer)->send = Py_NewRef(args[2]);
        return answer;
    }
    return front_pass(self, answer, args, nargs);
}

static PyObject *
ASGIFront_call(Front *self, PyObject *args, PyObject *kwargs)
{
    return front_tp_call(self, args, kwargs, (ternaryfunc)ASGIFront_call,
                         (vectorcallfunc)ASGIFront_vectorcall);
}

/* WSGIFront(environ, start_response) */
static PyObject *WSGIFront_call(Front *self, PyObject *args, PyObject *kwargs);

static PyObject *
WSGIFront_vectorcall(Front *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (Py_TYPE(self)->tp_call != (ternaryfunc)WSGIFront_call)
        return front_call_replaced(self, args, nargsf, kwnames);
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Lookup *lookup = front_lookup(self, nargs, kwnames, 2);
    if (lookup == NULL)
        return front_python(self, args, nargs, kwnames);
    PyObject *answer = Lookup_wsgi(lookup, args[0], args[1]);
    if (answer == NULL)
        return NULL;
    if (!PyTuple_CheckExact(answer))
        return front_pass(self, answer, args, nargs);
    /* (status line, header list, [body]) */
    PyObject *started = PyObject_Vectorcall(args[1], &PyTuple_GET_ITEM(answer, 0), 2, NULL);
    PyObject *body = started == NULL ? NULL : Py_NewRef(PyTuple_GET_ITEM(answer, 2));
    Py_XDECREF(started);
    Py_DECREF(answer);
    return body;
}

static PyObject *
WSGIFront_call(Front *self, PyObject *args, PyObject *kwargs)
{
    return front_tp_call(self, args, kwargs, (ternaryfunc)WSGIFront_call,
                         (vectorcallfunc)WSGIFront_vectorcall);
}

static PyMemberDef Front_members[] = {
    {"app", T_OBJECT_EX, offsetof(Front, app), 0, "The wrapped app, or None."},
    {"_fast", T_OBJECT_EX, offsetof(Front, fast), 0,
     "The Lookup this front asks first, or None: the adapter's Python path only."},
    {NULL},
};

static PyTypeObject ASGIFrontType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "staticserve._speedups.ASGIFront",
    .tp_basicsize = sizeof(Front),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC |
                Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(Front, vectorcall),
    .tp_doc = "The call of asgi.StaticServe (see the module's comment on the fronts).",
    /* tp_new: object's (set in PyInit__speedups), which sets up a subclass's
     * inline attribute values; PyType_GenericNew would leave a plain dict, and
     * every self.<attribute> in the adapters' Python would go unspecialized
     * (about 1k instructions on a pure-Python WSGI request) */
    .tp_call = (ternaryfunc)ASGIFront_call,
    .tp_members = Front_members,
    .tp_traverse = (traverseproc)Front_traverse,
    .tp_clear = (inquiry)Front_clear,
    .tp_dealloc = (destructor)Front_dealloc,
};

static PyTypeObject WSGIFrontType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "staticserve._speedups.WSGIFront",
    .tp_basicsize = sizeof(Front),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC |
                Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_vectorcall_offset = offsetof(Front, vectorcall),
    .tp_doc = "The call of wsgi.StaticServeWSGI (see the module's comment on the fronts).",
    /* tp_new: object's, as for ASGIFrontType */
    .tp_call = (ternaryfunc)WSGIFront_call,
    .tp_members = Front_members,
    .tp_traverse = (traverseproc)Front_traverse,
    .tp_clear = (inquiry)Front_clear,
    .tp_dealloc = (destructor)Front_dealloc,
};

/* ---------------------------------------------------------------- Sending */

/* (Sending, the awaitable of an ASGI hit, is declared with asgi_messages.) */

static int
Sending_traverse(Sending *s, visitproc visit, void *arg)
{
    Py_VISIT(s->send);
    Py_VISIT(s->start);
    Py_VISIT(s->body);
    Py_VISIT(s->inner);
    return 0;
}

static int
Sending_clear(Sending *s)
{
    Py_CLEAR(s->send);
    Py_CLEAR(s->start);
    Py_CLEAR(s->body);
    Py_CLEAR(s->inner);
    return 0;
}

static void
Sending_dealloc(Sending *s)
{
    PyObject_GC_UnTrack(s);
    Sending_clear(s);
    PyObject_GC_Del(s);
}

/* The iterator ``await awaitable`` drives (what the interpreter's
 * GET_AWAITABLE takes): a coroutine itself, else its __await__(). */
static PyObject *
awaitable_iter(PyObject *awaitable)
{
    if (PyCoro_CheckExact(awaitable))
        return Py_NewRef(awaitable);
    PyAsyncMethods *am = Py_TYPE(awaitable)->tp_as_async;
    if (am != NULL && am->am_await != NULL) {
        PyObject *iter = am->am_await(awaitable);
        if (iter != NULL && (PyCoro_CheckExact(iter) || !PyIter_Check(iter))) {
            PyErr_Format(PyExc_TypeError, "__await__() returned %s, not an iterator",
                         PyCoro_CheckExact(iter) ? "a coroutine" : Py_TYPE(iter)->tp_name);
            Py_CLEAR(iter);
        }
        return iter;
    }
    PyErr_Format(PyExc_TypeError, "object %.100s can't be used in 'await' expression",
                 Py_TYPE(awaitable)->tp_name);
    return NULL;
}

/* ``obj.<name>`` in *out: 1 found, 0 not there (*out NULL), -1 error. */
static int
optional_attr(PyObject *obj, const char *name, PyObject **out)
{
    *out = PyObject_GetAttrString(obj, name);
    if (*out != NULL)
        return 1;
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        return -1;
    PyErr_Clear();
    return 0;
}

/* Finished, for good (an error, a close, or both sends done). */
static void
sending_finish(Sending *s)
{
    Py_CLEAR(s->inner);
    Py_CLEAR(s->start);
    Py_CLEAR(s->body);
}

/* Resume with ``arg`` sent into the send being awaited; then the next send. */
static PySendResult
Sending_am_send(Sending *s, PyObject *arg, PyObject **result)
{
    for (;;) {
        if (s->inner == NULL) {
            PyObject **message = s->start != NULL ? &s->start : &s->body;
            if (*message == NULL || s->send == NULL) {
                *result = Py_NewRef(Py_None);
                return PYGEN_RETURN;
            }
            PyObject *awaitable = PyObject_CallOneArg(s->send, *message);
            Py_CLEAR(*message); /* send has it now */
            s->inner = awaitable == NULL ? NULL : awaitable_iter(awaitable);
            Py_XDECREF(awaitable);
            if (s->inner == NULL) {
                sending_finish(s);
                *result = NULL;
                return PYGEN_ERROR;
            }
            arg = Py_None;
        }
        PySendResult r = PyIter_Send(s->inner, arg, result);
        if (r == PYGEN_NEXT)
            return r;
        if (r == PYGEN_ERROR) {
            sending_finish(s);
            return r;
        }
        Py_DECREF(*result); /* what send returned */
        Py_CLEAR(s->inner);
    }
}

/* The iterator protocol's answer for a send result: a yielded value, or
 * NULL (with StopIteration set when ``raise_stop``, else none: tp_iternext). */
static PyObject *
sending_step_result(PySendResult r, PyObject *result, int raise_stop)
{
    if (r == PYGEN_NEXT || r == PYGEN_ERROR)
        return result;
    if (raise_stop) {
        if (result == Py_None)
            PyErr_SetNone(PyExc_StopIteration);
        else {
            PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, result);
            if (stop != NULL) {
                PyErr_SetObject(PyExc_StopIteration, stop);
                Py_DECREF(stop);
            }
        }
    }
    Py_DECREF(result);
    return NULL;
}

static PyObject *
Sending_iternext(Sending *s)
{
    PyObject *result;
    PySendResult r = Sending_am_send(s, Py_None, &result);
    return sending_step_result(r, result, 0);
}

static PyObject *
Sending_send(Sending *s, PyObject *arg)
{
    PyObject *result;
    PySendResult r = Sending_am_send(s, arg, &result);
    return sending_step_result(r, result, 1);
}

/* throw(exc) / throw(type[, value[, traceback]]): into the send being
 * awaited when it has a throw (a task cancelled mid-send), else raised here. */
static PyObject *
Sending_throw(Sending *s, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "throw() takes 1 to 3 arguments");
        return NULL;
    }
    if (s->inner != NULL) {
        PyObject *throw_ = NULL;
        if (optional_attr(s->inner, "throw", &throw_) < 0) {
            sending_finish(s);
            return NULL;
        }
        if (throw_ != NULL) {
            PyObject *yielded = PyObject_Vectorcall(throw_, args, (size_t)nargs, NULL);
            Py_DECREF(throw_);
            if (yielded != NULL)
                return yielded; /* the send goes on */
            if (!PyErr_ExceptionMatches(PyExc_StopIteration)) {
                sending_finish(s);
                return NULL;
            }
            /* The send finished: on to the next one. */
            PyErr_Clear();
            Py_CLEAR(s->inner);
            return Sending_send(s, Py_None);
        }
    }
    sending_finish(s);
    PyObject *first = args[0];
    if (PyExceptionInstance_Check(first)) {
        if (nargs > 1 && args[1] != Py_None) {
            PyErr_SetString(PyExc_TypeError, "instance exception may not have a separate value");
            return NULL;
        }
        PyErr_SetObject((PyObject *)Py_TYPE(first), first);
    }
    else if (PyExceptionClass_Check(first))
        PyErr_SetObject(first, nargs > 1 ? args[1] : Py_None);
    else
        PyErr_SetString(PyExc_TypeError,
                        "exceptions must be classes or instances deriving from BaseException");
    return NULL;
}

static PyObject *
Sending_close(Sending *s, PyObject *Py_UNUSED(ignored))
{
    PyObject *inner = s->inner;
    s->inner = NULL;
    sending_finish(s);
    if (inner == NULL)
        Py_RETURN_NONE;
    PyObject *close = NULL;
    int found = optional_attr(inner, "close", &close);
    Py_DECREF(inner);
    if (found <= 0)
        return found < 0 ? NULL : Py_NewRef(Py_None);
    PyObject *result = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    return result;
}

static PyObject *
Sending_await(Sending *s)
{
    return Py_NewRef((PyObject *)s);
}

static PyAsyncMethods Sending_async = {
    .am_await = (unaryfunc)Sending_await,
    .am_send = (sendfunc)Sending_am_send,
};

static PyMethodDef Sending_methods[] = {
    {"send", (PyCFunction)Sending_send, METH_O, "send(value): resume the send being awaited."},
    {"throw", (PyCFunction)(void (*)(void))Sending_throw, METH_FASTCALL,
     "throw(exc): raise exc into the send being awaited."},
    {"close", (PyCFunction)Sending_close, METH_NOARGS, "Stop; the send being awaited is closed."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SendingType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "staticserve._speedups.Sending",
    .tp_basicsize = sizeof(Sending),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "await send(start); await send(body): an ASGI hit's answer.",
    .tp_as_async = &Sending_async,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Sending_iternext,
    .tp_methods = Sending_methods,
    .tp_traverse = (traverseproc)Sending_traverse,
    .tp_clear = (inquiry)Sending_clear,
    .tp_dealloc = (destructor)Sending_dealloc,
};

/* ------------------------------------------------------------------ module */

static int
intern_all(void)
{
#define I(var, text) if ((var = PyUnicode_InternFromString(text)) == NULL) return -1
    I(s_type, "type");
    I(s_http, "http");
    I(s_path, "path");
    I(s_root_path, "root_path");
    I(s_method, "method");
    I(s_headers, "headers");
    I(s_status, "status");
    I(s_body, "body");
    I(s_start, "http.response.start");
    I(s_body_type, "http.response.body");
    I(s_checked_at, "checked_at");
    I(s_variants, "variants");
    I(s_negotiated, "negotiated");
    I(s_etag, "etag");
    I(s_plan_get, "plan_get");
    I(s_plan_head, "plan_head");
    I(s_plan_not_modified, "plan_not_modified");
    I(s_head_plan, "head_plan");
    I(s_not_modified_plan, "not_modified_plan");
    I(s_status_line, "status_line");
    I(s_str_headers, "str_headers");
    I(s_path_info, "PATH_INFO");
    I(s_request_method, "REQUEST_METHOD");
    I(s_http_range, "HTTP_RANGE");
    I(s_http_if_match, "HTTP_IF_MATCH");
    I(s_http_if_unmodified_since, "HTTP_IF_UNMODIFIED_SINCE");
    I(s_http_accept_encoding, "HTTP_ACCEPT_ENCODING");
    I(s_http_if_none_match, "HTTP_IF_NONE_MATCH");
    I(s_http_if_modified_since, "HTTP_IF_MODIFIED_SINCE");
    I(s_slash, "/");
    I(s_monotonic, "monotonic");
    I(s_str_headers_slot, "_str_headers");
    I(s_serve, "_serve");
#undef I
    return 0;
}

static PyMethodDef module_methods[] = {
    {"kept_accept", (PyCFunction)kept_accept, METH_O,
     "kept_accept(value): the object the fast path keeps for this Accept-Encoding value."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "staticserve._speedups",
    .m_doc = "The per-request fast path in C; see staticserve/speedups.py.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyObject *time_module = PyImport_ImportModule("time");
    if (time_module == NULL)
        return NULL;
    time_monotonic = PyObject_GetAttrString(time_module, "monotonic");
    Py_DECREF(time_module);
    if (time_monotonic == NULL)
        return NULL;
    /* object's tp_new for the fronts (see ASGIFrontType) */
    ASGIFrontType.tp_new = WSGIFrontType.tp_new = PyBaseObject_Type.tp_new;
    if (intern_all() < 0 || build_shapes() < 0 || PyType_Ready(&LookupType) < 0 ||
        PyType_Ready(&MarkingSendType) < 0 || PyType_Ready(&MarkingStartType) < 0 ||
        PyType_Ready(&ASGIFrontType) < 0 || PyType_Ready(&WSGIFrontType) < 0 ||
        PyType_Ready(&SendingType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&speedups_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Lookup", (PyObject *)&LookupType) < 0 ||
        PyModule_AddObjectRef(m, "ASGIFront", (PyObject *)&ASGIFrontType) < 0 ||
        PyModule_AddObjectRef(m, "WSGIFront", (PyObject *)&WSGIFrontType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
