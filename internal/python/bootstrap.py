# The Python half of the ksml function engine. It runs once, as module
# _ksml, when the interpreter starts. It builds KSML functions from the
# parsed syntax tree of their code (so tracebacks point at the YAML lines),
# and defines what user code sees: log, metrics, properties and stores.

import ast
import builtins
import json as _json
import json.scanner as _json_scanner
import linecache
import os
import sys
import time as _time
import textwrap
import traceback
import _thread
import types as _types

import _ksmlhost as _host

scan_once = _json_scanner.make_scanner(_json.JSONDecoder())


class FunctionTimeout(BaseException):
    """Raised in a function that runs longer than ksml.pythonContext.functionTimeout.

    It derives from BaseException so that `except Exception` in user code
    cannot swallow it."""


# ---------------------------------------------------------------- sources

_sources = {}


def register_source(filename, line, text):
    """Registers text as lines line.. of filename for tracebacks."""
    lines = _sources.setdefault(filename, [])
    parts = text.splitlines()
    need = line - 1 + len(parts)
    if len(lines) < need:
        lines.extend(["\n"] * (need - len(lines)))
    for i, part in enumerate(parts):
        lines[line - 1 + i] = part + "\n"
    linecache.cache[filename] = (sum(len(x) for x in lines), None, lines, filename)


def _shift(tree, line, col_shift_line1=0):
    for node in ast.walk(tree):
        if col_shift_line1 and getattr(node, "lineno", None) == 1 and hasattr(node, "col_offset"):
            node.col_offset += col_shift_line1
            if getattr(node, "end_lineno", None) == 1 and node.end_col_offset is not None:
                node.end_col_offset += col_shift_line1
    if line > 1:
        ast.increment_lineno(tree, line - 1)
    return tree


def _relocate(err, filename, line):
    if isinstance(err, SyntaxError):
        if err.lineno is not None:
            err.lineno += line - 1
            if getattr(err, "end_lineno", None) is not None:
                err.end_lineno += line - 1
        err.filename = filename
    return err


def _parse_body(text, filename):
    try:
        return ast.parse(text, filename, "exec").body
    except IndentationError as e:
        # A block indented as a whole (upstream indents code into its def,
        # so that works there) parses once dedented; lines stay in place.
        dedented = textwrap.dedent(text)
        if dedented == text:
            raise
        try:
            return ast.parse(dedented, filename, "exec").body
        except SyntaxError:
            raise e from None


def _parse_expr(text, filename):
    """Parses an expression; multi-line expressions need no brackets."""
    try:
        return ast.parse(text, filename, "eval").body, 0
    except SyntaxError as first:
        try:
            tree = ast.parse("(" + text + "\n)", filename, "eval")
        except SyntaxError:
            raise first from None
        return tree.body, -1


def _wrap_check(body):
    fdef = ast.FunctionDef(name="__ksml_check__",
                           args=ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[],
                                              kw_defaults=[], kwarg=None, defaults=[]),
                           body=body or [ast.Pass()], decorator_list=[], returns=None, type_comment=None)
    mod = ast.Module(body=[fdef], type_ignores=[])
    ast.fix_missing_locations(mod)
    return mod


def check_syntax(kind, src):
    """Compiles src without running it: None, or (line, col, message)."""
    try:
        if kind == 0:
            compile(src, "<ksml>", "exec", dont_inherit=True)
        elif kind == 1:
            compile(_wrap_check(_parse_body(src, "<ksml>")), "<ksml>", "exec", dont_inherit=True)
        else:
            expr, shift = _parse_expr(src, "<ksml>")
            _shift(expr, 1, shift)
            compile(_wrap_check([ast.Return(value=expr, lineno=1, col_offset=0)]), "<ksml>", "exec",
                    dont_inherit=True)
    except SyntaxError as e:
        return (e.lineno or 1, e.offset or 1, e.msg)
    except ValueError as e:
        return (1, 1, str(e))
    return None


def format_exc(exc):
    """Describes an exception: (type, message, file, line, traceback, timed out)."""
    filename, line = "", 0
    if isinstance(exc, SyntaxError) and exc.filename in _sources:
        filename, line = exc.filename, exc.lineno or 0
    else:
        tb = exc.__traceback__
        for fr in reversed(traceback.extract_tb(tb) if tb else []):
            if fr.filename in _sources:
                filename, line = fr.filename, fr.lineno or 0
                break
    try:
        text = "".join(traceback.format_exception(exc))
    except Exception:
        text = ""
    msg = str(exc)
    if isinstance(exc, SyntaxError):
        msg = exc.msg
    return (type(exc).__name__, msg, filename, line, text, isinstance(exc, FunctionTimeout))


# ---------------------------------------------------------------- log

TRACE, DEBUG, INFO, WARN, ERROR = 0, 1, 2, 3, 4


def _arg_str(a):
    return "null" if a is None else str(a)


def _format(msg, args):
    msg = str(msg)
    if not args:
        return msg
    out = []
    i = 0
    ai = 0
    n = len(args)
    while True:
        j = msg.find("{}", i)
        if j < 0 or ai >= n:
            out.append(msg[i:])
            break
        if j > 0 and msg[j - 1] == "\\":
            out.append(msg[i:j - 1])
            out.append("{}")
            i = j + 2
            continue
        out.append(msg[i:j])
        out.append(_arg_str(args[ai]))
        ai += 1
        i = j + 2
    if ai < n and isinstance(args[-1], BaseException):
        out.append("\n")
        out.append("".join(traceback.format_exception(args[-1])).rstrip("\n"))
    return "".join(out)


class Logger:
    """The `log` object: SLF4J-style levels and {} placeholders."""
    __slots__ = ("_id", "_name")

    def __init__(self, name):
        self._name = name
        self._id = _host.logger(name)

    def getName(self):
        return self._name

    def _log(self, level, msg, args):
        if _host.log_enabled(self._id, level):
            _host.log(self._id, level, _format(msg, args))

    def trace(self, msg, *args): self._log(TRACE, msg, args)
    def debug(self, msg, *args): self._log(DEBUG, msg, args)
    def info(self, msg, *args): self._log(INFO, msg, args)
    def warn(self, msg, *args): self._log(WARN, msg, args)
    def error(self, msg, *args): self._log(ERROR, msg, args)
    warning = warn

    def isTraceEnabled(self): return _host.log_enabled(self._id, TRACE)
    def isDebugEnabled(self): return _host.log_enabled(self._id, DEBUG)
    def isInfoEnabled(self): return _host.log_enabled(self._id, INFO)
    def isWarnEnabled(self): return _host.log_enabled(self._id, WARN)
    def isErrorEnabled(self): return _host.log_enabled(self._id, ERROR)

    def __repr__(self):
        return "<ksml logger %s>" % self._name


_loggers = {}


def get_logger(name):
    lg = _loggers.get(name)
    if lg is None:
        lg = _loggers[name] = Logger(name)
    return lg


class LoggerBridge:
    """The `loggerBridge` global of upstream's generated code."""
    __slots__ = ()

    def getLogger(self, name):
        return get_logger(str(name))


logger_bridge = LoggerBridge()


# ---------------------------------------------------------------- metrics

COUNTER, METER, TIMER = 0, 1, 2


class _Metric:
    __slots__ = ("_id",)
    def __init__(self, mid): self._id = mid
    def close(self): pass


class Counter(_Metric):
    __slots__ = ()
    def increment(self, n=1): _host.metric_update(self._id, float(n))


class Meter(_Metric):
    __slots__ = ()
    def mark(self, n=1): _host.metric_update(self._id, float(n))


class Timer(_Metric):
    __slots__ = ()
    def updateSeconds(self, v): _host.metric_update(self._id, float(v) * 1e9)
    def updateMillis(self, v): _host.metric_update(self._id, float(v) * 1e6)
    def updateNanos(self, v): _host.metric_update(self._id, float(v))


_metric_cache = {}


def _tags(tags):
    if not tags:
        return ""
    if not isinstance(tags, dict):
        raise TypeError("metric tags must be a dict of names to values")
    return "\x00".join("%s=%s" % (k, v) for k, v in sorted((str(k), str(v)) for k, v in tags.items()))


class Metrics:
    """The `metrics` object: counter, meter and timer with optional tags."""
    __slots__ = ()

    def _get(self, kind, cls, name, tags):
        t = _tags(tags)
        key = (kind, name, t)
        m = _metric_cache.get(key)
        if m is None:
            if not isinstance(name, str) or not name:
                raise ValueError("a metric needs a non-empty name")
            m = _metric_cache[key] = cls(_host.metric(kind, name, t))
        return m

    def counter(self, name, tags=None): return self._get(COUNTER, Counter, name, tags)
    def meter(self, name, tags=None): return self._get(METER, Meter, name, tags)
    def timer(self, name, tags=None): return self._get(TIMER, Timer, name, tags)


metrics = Metrics()


# ---------------------------------------------------------------- stores

# Operation codes shared with store.go; Go picks the variant from the kind
# of store and the number of arguments.
# The OP_ constants (store operation codes) are set by set_store_ops from the
# Go table storeOps, their one source.


def set_store_ops(ops):
    globals().update(ops)


class StoreIterator:
    """Iterator over store entries: hasNext(), next() -> {key, value}, close()."""
    __slots__ = ("_items", "_pos")

    def __init__(self, items):
        self._items = items
        self._pos = 0

    def hasNext(self):
        return self._pos < len(self._items)

    def next(self):
        if self._pos >= len(self._items):
            raise StopIteration
        item = self._items[self._pos]
        self._pos += 1
        return item

    __next__ = next

    def __iter__(self):
        return self

    def close(self):
        self._items = []
        self._pos = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class StateStore:
    """A declared state store: key/value, window or session, with upstream's API."""
    __slots__ = ("_n",)

    def __init__(self, name):
        self._n = name

    def name(self): return _host.store(self._n, OP_NAME)
    def persistent(self): return _host.store(self._n, OP_PERSISTENT)
    def isOpen(self): return _host.store(self._n, OP_ISOPEN)
    def flush(self): _host.store(self._n, OP_FLUSH)
    def get(self, *args): return _host.store(self._n, OP_GET, *args)
    def put(self, *args): _host.store(self._n, OP_PUT, *args)
    def putIfAbsent(self, *args): return _host.store(self._n, OP_PUTIFABSENT, *args)
    def delete(self, *args): return _host.store(self._n, OP_DELETE, *args)
    def remove(self, sessionKey): _host.store(self._n, OP_REMOVE, sessionKey)
    def approximateNumEntries(self): return _host.store(self._n, OP_COUNT)
    def all(self): return StoreIterator(_host.store(self._n, OP_ALL))
    def backwardAll(self): return StoreIterator(_host.store(self._n, OP_BALL))
    def fetchSession(self, key, sessionStartTime, sessionEndTime):
        return _host.store(self._n, OP_FETCHSESSION, key, sessionStartTime, sessionEndTime)

    def fetch(self, *args):
        # fetch(key, time) on a window store is one value; other fetches iterate.
        many, r = _host.store(self._n, OP_FETCH, *args)
        return StoreIterator(r) if many else r

    def backwardFetch(self, *args): return StoreIterator(_host.store(self._n, OP_BFETCH, *args))
    def fetchAll(self, timeFrom, timeTo): return StoreIterator(_host.store(self._n, OP_FETCHALL, timeFrom, timeTo))
    def backwardFetchAll(self, timeFrom, timeTo):
        return StoreIterator(_host.store(self._n, OP_BFETCHALL, timeFrom, timeTo))

    def findSessions(self, key, earliestSessionEndTime, latestSessionStartTime):
        return StoreIterator(_host.store(self._n, OP_FIND, key, earliestSessionEndTime, latestSessionStartTime))

    def backwardFindSessions(self, key, earliestSessionEndTime, latestSessionStartTime):
        return StoreIterator(_host.store(self._n, OP_BFIND, key, earliestSessionEndTime, latestSessionStartTime))

    def __repr__(self):
        return "<ksml state store %s>" % self._n


# ---------------------------------------------------------------- java shim

# Upstream's ksml.py (IDE type hints) does `import java` and java.type(...)
# at runtime under GraalPy. This module answers those lookups with the
# classes that play the same roles here; any other Java type is refused.
_java_types = {
    "io.axual.ksml.proxy.log.LoggerBridge$PythonLogger": Logger,
    "io.axual.ksml.proxy.metric.MetricsBridge": Metrics,
    "io.axual.ksml.proxy.store.KeyValueStoreProxy": StateStore,
    "io.axual.ksml.proxy.store.SessionStoreProxy": StateStore,
    "io.axual.ksml.proxy.store.WindowStoreProxy": StateStore,
    "io.axual.ksml.proxy.store.TimestampedKeyValueStoreProxy": StateStore,
    "io.axual.ksml.proxy.store.TimestampedWindowStoreProxy": StateStore,
    "io.axual.ksml.proxy.store.VersionedKeyValueStoreProxy": StateStore,
}


def _java_type(name):
    t = _java_types.get(name)
    if t is None:
        raise TypeError("Java type %s is not available: ksml runs functions on CPython" % name)
    return t


_java = _types.ModuleType("java", "Stand-in for GraalPy's java module (only the KSML proxy types).")
_java.type = _java_type
sys.modules.setdefault("java", _java)


# ---------------------------------------------------------------- modules

_host_environ, _host_environb = os.environ, os.environb
_thread_start = _thread.start_new_thread


def _guarded_start_new_thread(function, args, kwargs=None):
    # CPython 3.11 raises no audit event for new threads; raise one so the
    # audit hook can apply allowCreateThread.
    sys.audit("_thread.start_new_thread", function, args, kwargs)
    if kwargs is None:
        return _thread_start(function, args)
    return _thread_start(function, args, kwargs)


_thread.start_new_thread = _guarded_start_new_thread


def _refuse(name):
    def refuse(*args, **kwargs):
        raise PermissionError("%s would end the ksml process and is not allowed" % name)
    refuse.__name__ = name.rsplit(".", 1)[-1]
    return refuse


# Functions must not end the host process; SystemExit is an ordinary error.
os._exit = _refuse("os._exit")
os.abort = _refuse("os.abort")
if "threading" in sys.modules:
    sys.modules["threading"]._start_new_thread = _guarded_start_new_thread


# time.sleep waits on the thread's watchdog slot, so a function that reaches
# its timeout while sleeping is interrupted at the limit.
_time.sleep = _host.sleep


def _line_buffered():
    # print() from functions reaches the log collector line by line, also
    # when stdout is a pipe (containers), not in 8 KB blocks at exit.
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(line_buffering=True)
            except Exception:
                pass


_line_buffered()


def flush_output():
    """Flushes what print() wrote and not yet handed to the OS."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


def site_packages(venv):
    """The site-packages directory of a virtual environment for this Python."""
    import glob
    ver = "python%d.%d" % sys.version_info[:2]
    for cand in (os.path.join(venv, "lib", ver, "site-packages"),
                 os.path.join(venv, "lib64", ver, "site-packages")):
        if os.path.isdir(cand):
            return cand
    found = sorted(glob.glob(os.path.join(venv, "lib", "python3*", "site-packages")))
    if found:
        raise ValueError("virtual environment %s is for %s, but ksml embeds Python %d.%d; create it with python%d.%d"
                         % (venv, os.path.basename(os.path.dirname(found[0])), sys.version_info[0],
                            sys.version_info[1], sys.version_info[0], sys.version_info[1]))
    raise ValueError("%s is not a virtual environment: it has no lib/%s/site-packages" % (venv, ver))


def configure(module_paths, inherit_env, venvs=()):
    for p in module_paths:
        if p not in sys.path:
            sys.path.insert(0, p)
    import site
    for venv in venvs:
        sp = site_packages(venv)
        if sp not in sys.path:
            # addsitedir also runs the .pth files packages install.
            site.addsitedir(sp)
    # Without inheritEnvironmentVariables Python sees an empty environment;
    # the process environment itself is left alone.
    if inherit_env:
        os.environ, os.environb = _host_environ, _host_environb
    else:
        os.environ, os.environb = {}, {}


class Namespace:
    """Holds the globals of one definition file for Go (a dict would be
    converted to a value)."""
    __slots__ = ("g",)

    def __init__(self, g):
        self.g = g


def new_module(namespace, properties):
    """Returns the globals of one definition file."""
    g = {
        "__builtins__": builtins,
        "__name__": namespace,
        "time": _time,
        "null": None,
        "properties": _types.MappingProxyType(dict(properties or {})),
        "metrics": metrics,
        "log": get_logger(namespace + ".function"),
        "loggerBridge": logger_bridge,
        "stores": {},
        "__ksml_logger__": get_logger,
    }
    return Namespace(g)


class _InjectLog(ast.NodeTransformer):
    """Gives every def in globalCode its own `log`, named as upstream does."""

    def __init__(self, prefix):
        self.prefix = prefix

    def visit_FunctionDef(self, node):
        self.generic_visit(node)
        params = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
        if "log" in params:
            return node
        stmt = ast.parse("log = __ksml_logger__(%r)" % (self.prefix + node.name)).body[0]
        ast.copy_location(stmt, node.body[0])
        for n in ast.walk(stmt):
            ast.copy_location(n, node.body[0])
        at = 1 if (node.body and isinstance(node.body[0], ast.Expr)
                   and isinstance(node.body[0].value, ast.Constant)
                   and isinstance(node.body[0].value.value, str)) else 0
        node.body.insert(at, stmt)
        return node


def _identifier(name):
    out = "".join(c if (c.isalnum() or c == "_") else "_" for c in name)
    if not out or out[0].isdigit():
        out = "_" + out
    return out


def define(g, namespace, kind, name, params, nrequired, defaults, global_code, code, expr, default_expr,
           stores):
    """Builds one KSML function in module globals g and returns it.

    params are all parameter names (built-in first); the ones after
    nrequired default to None. defaults is a list of (name, mode, value):
    mode "expr" parses value as Python, "const" uses it as is. Sources are
    (text, file, line) or None. stores lists store names."""
    g = g.g
    prefix = namespace + "." + kind + "."
    if global_code is not None:
        text, filename, line = global_code
        register_source(filename, line, text)
        try:
            tree = ast.parse(text, filename, "exec")
        except SyntaxError as e:
            raise _relocate(e, filename, line) from None
        tree = _InjectLog(prefix).visit(tree)
        ast.fix_missing_locations(tree)
        _shift(tree, line)
        _host.run_user(exec, compile(tree, filename, "exec", dont_inherit=True), g)

    body = []
    filename, first_line = "<ksml>", 1
    if code is not None:
        text, filename, first_line = code
        register_source(filename, first_line, text)
        try:
            stmts = _parse_body(text, filename)
        except SyntaxError as e:
            raise _relocate(e, filename, first_line) from None
        mod = _shift(ast.Module(body=stmts, type_ignores=[]), first_line)
        body.extend(mod.body)
    ret = None
    if expr is not None:
        text, efile, eline = expr
        register_source(efile, eline, text)
        if code is None:
            filename, first_line = efile, eline
        try:
            e, shift = _parse_expr(text, efile)
        except SyntaxError as err:
            raise _relocate(err, efile, eline) from None
        _shift(e, eline, shift)
        ret = ast.Return(value=e)
        ast.copy_location(ret, e)
    elif default_expr:
        e = ast.parse(default_expr, filename, "eval").body
        last = body[-1].end_lineno if body else first_line
        for n in ast.walk(e):
            if hasattr(n, "lineno"):
                n.lineno = n.end_lineno = last
                n.col_offset, n.end_col_offset = 0, 0
        ret = ast.Return(value=e, lineno=last, col_offset=0, end_lineno=last, end_col_offset=0)
    if ret is not None:
        body.append(ret)

    prologue = []
    for pname, mode, value in defaults:
        if mode == "expr":
            try:
                dv = ast.parse(value, filename, "eval").body
            except SyntaxError:
                dv = ast.Constant(value=value)
        else:
            dv = ast.Constant(value=value)
        stmt = ast.If(test=ast.Compare(left=ast.Name(id=pname, ctx=ast.Load()), ops=[ast.Is()],
                                       comparators=[ast.Constant(value=None)]),
                      body=[ast.Assign(targets=[ast.Name(id=pname, ctx=ast.Store())], value=dv)], orelse=[])
        for n in ast.walk(stmt):
            n.lineno = n.end_lineno = first_line
            n.col_offset = n.end_col_offset = 0
        prologue.append(stmt)
    if not body:
        body = [ast.Return(value=None, lineno=first_line, col_offset=0, end_lineno=first_line, end_col_offset=0)]
    body = prologue + body

    # log and the stores are locals bound at definition time; metrics is a
    # module global, so user code may declare `global metrics` as upstream's
    # generated code does.
    kwonly = ["log"] + list(stores)
    args = ast.arguments(posonlyargs=[], args=[ast.arg(arg=p) for p in params], vararg=None,
                         kwonlyargs=[ast.arg(arg=k) for k in kwonly],
                         kw_defaults=[ast.Constant(value=None) for _ in kwonly], kwarg=None,
                         defaults=[ast.Constant(value=None) for _ in params[nrequired:]])
    pyname = _identifier(name)
    fdef = ast.FunctionDef(name=pyname, args=args, body=body, decorator_list=[], returns=None,
                           type_comment=None, lineno=first_line, col_offset=0,
                           end_lineno=max(getattr(n, "end_lineno", first_line) or first_line for n in body),
                           end_col_offset=0)
    mod = ast.Module(body=[fdef], type_ignores=[])
    ast.fix_missing_locations(mod)
    ns = {}
    exec(compile(mod, filename, "exec", dont_inherit=True), g, ns)
    fn = ns[pyname]
    kw = {"log": get_logger(prefix + name)}
    declared = g["stores"]
    for sname in stores:
        proxy = declared.get(sname)
        if proxy is None:
            proxy = declared[sname] = StateStore(sname)
        kw[sname] = proxy
    fn.__kwdefaults__ = kw
    g[pyname] = fn
    return fn
