#!/usr/bin/env python3
"""Generates SESP's Kafka protocol codecs from Kafka's JSON message specs.

Usage:
    python3 tools/kafka_codegen.py SPEC_DIR OUT_DIR [TEST_OUT_DIR]

SPEC_DIR is Kafka's clients/src/main/resources/common/message (JSON with //
comments); OUT_DIR receives one .c/.h pair per message plus kmsg.h,
api_table.c/.h and roundtrip.c.  TEST_OUT_DIR (default
tests/unit/protocol/generated next to OUT_DIR's repository root) receives the
test-data fillers used by the round-trip unit tests.  The generator works from
the JSON alone: every version-dependent decision (field presence, nullability,
flexible encoding, tagged fields) becomes a runtime test on the version, so one
function per struct serves every version.  Standard library only.
"""

import glob
import json
import os
import re
import sys

VMAX = 0x7FFF

C_KEYWORDS = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
    "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
}

PRIMS = {
    # type: (C type, min wire size, reader, writer)
    "int8": ("int8_t", 1, "sesp_bufr_i8", "sesp_bufw_i8"),
    "int16": ("int16_t", 2, "sesp_bufr_i16", "sesp_bufw_i16"),
    "int32": ("int32_t", 4, "sesp_bufr_i32", "sesp_bufw_i32"),
    "int64": ("int64_t", 8, "sesp_bufr_i64", "sesp_bufw_i64"),
    "uint16": ("uint16_t", 2, "sesp_bufr_u16", "sesp_bufw_u16"),
    "uint32": ("uint32_t", 4, "sesp_bufr_u32", "sesp_bufw_u32"),
    "float64": ("double", 8, "sesp_bufr_f64", "sesp_bufw_f64"),
    "bool": ("bool", 1, None, None),
    "uuid": ("sesp_kuuid", 16, None, None),
    "string": ("sesp_kstr", 1, None, None),
    "bytes": ("sesp_kbytes", 1, None, None),
    "records": ("sesp_kbytes", 1, None, None),
}

INT_RANGES = {
    "int8": (-(1 << 7), (1 << 7) - 1), "int16": (-(1 << 15), (1 << 15) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1),
    "uint16": (0, (1 << 16) - 1), "uint32": (0, (1 << 32) - 1),
}


def die(msg):
    sys.stderr.write("kafka_codegen: %s\n" % msg)
    sys.exit(1)


def snake(name):
    name = name.replace("KRaft", "Kraft")
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def cfield(name):
    s = snake(name)
    return s + "_" if s in C_KEYWORDS else s


def parse_versions(s):
    """'3+', '0-5', '7', 'none' -> (lo, hi) or None."""
    if s is None:
        return None
    s = s.strip()
    if s == "none" or s == "":
        return None
    if s.endswith("+"):
        return (int(s[:-1]), VMAX)
    if "-" in s:
        lo, hi = s.split("-")
        return (int(lo), int(hi))
    return (int(s), int(s))


def intersect(a, b):
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else None


def cond(rng, ctx, var="v"):
    """C condition for 'var in rng' knowing var is within ctx: 'true', 'false' or an expression."""
    r = intersect(rng, ctx)
    if r is None:
        return "false"
    parts = []
    if r[0] > ctx[0]:
        parts.append("%s >= %d" % (var, r[0]))
    if r[1] < ctx[1]:
        parts.append("%s <= %d" % (var, r[1]))
    if not parts:
        return "true"
    return "(" + " && ".join(parts) + ")"


def load_json(path):
    with open(path) as f:
        lines = [l for l in f if not l.lstrip().startswith("//")]
    return json.loads("".join(lines))


class Field:
    def __init__(self, js, msg):
        self.js = js
        self.name = js["name"]
        self.c = cfield(self.name)
        t = js["type"]
        self.is_array = t.startswith("[]")
        base = t[2:] if self.is_array else t
        self.base = base
        self.is_struct = base not in PRIMS
        self.versions = parse_versions(js["versions"])
        self.nullable = parse_versions(js.get("nullableVersions"))
        self.tag = int(js["tag"]) if js.get("tag") is not None else None
        self.tagged = parse_versions(js.get("taggedVersions")) if self.tag is not None else None
        if self.tag is not None and self.tagged is None:
            die("%s.%s: tag without taggedVersions" % (msg.name, self.name))
        fv = js.get("flexibleVersions")
        self.flex_override = parse_versions(fv) if fv is not None else "inherit"
        self.default = js.get("default")
        self.struct = None  # resolved Struct for struct/array-of-struct fields
        if self.is_struct and js.get("fields") is not None:
            self.struct = msg.add_struct(base, js["fields"])
        if self.tag is not None and self.tagged != self.versions:
            # Kafka never mixes tagged and untagged encodings of one field.
            die("%s.%s: taggedVersions differ from versions" % (msg.name, self.name))

    def default_is_null(self):
        if "default" in self.js and self.js["default"] is None:
            return True
        return self.default is not None and str(self.default).lower() in ("null", "none")


class Struct:
    def __init__(self, msg, name, fields_js, top=False):
        self.msg = msg
        self.name = name
        self.top = top
        self.snake = snake(name)
        self.ctype = msg.cname if top else "%s_%s" % (msg.cname, self.snake)
        self.fields_js = fields_js
        self.fields = []

    def build(self):
        self.fields = [Field(f, self.msg) for f in self.fields_js]
        seen = {}
        for f in self.fields:
            names = [f.c] + ([f.c + "_count"] if f.is_array else []) + \
                ([f.c + "_present"] if f.is_struct and not f.is_array and f.nullable else [])
            for n in names:
                if n in seen:
                    die("%s: C name clash %s" % (self.ctype, n))
                seen[n] = True


class Message:
    def __init__(self, js, path):
        self.js = js
        self.path = path
        self.name = js["name"]
        self.kind = js["type"]
        self.api_key = js.get("apiKey")
        self.snake = snake(self.name)
        self.cname = "sesp_kmsg_" + self.snake
        self.valid = parse_versions(js["validVersions"])
        if self.valid is None:
            die("%s: no valid versions" % self.name)
        self.flex = intersect(parse_versions(js.get("flexibleVersions", "none")), self.valid)
        self.structs = {}
        self.order = []
        self.common = {c["name"]: c for c in js.get("commonStructs", [])}
        for c in js.get("commonStructs", []):
            self.add_struct(c["name"], c["fields"])
        self.top = Struct(self, self.name, js["fields"], top=True)
        self.top.build()
        for f in self.all_fields():
            if f.is_struct and f.struct is None:
                if f.base not in self.structs:
                    die("%s: unknown struct type %s" % (self.name, f.base))
                f.struct = self.structs[f.base]
        for s in self.structs.values():
            if s.snake in ("init", "decode", "encode", "fill_test"):
                die("%s: struct name %s clashes with a function" % (self.name, s.name))

    def add_struct(self, name, fields_js):
        if name in self.structs:
            return self.structs[name]
        s = Struct(self, name, fields_js)
        self.structs[name] = s
        s.build()
        return s

    def all_structs(self):
        """Structs in definition order: every struct after the structs it contains by value."""
        out, seen = [], set()

        def visit(s):
            if s.ctype in seen:
                return
            seen.add(s.ctype)
            for f in s.fields:
                if f.struct is not None:
                    visit(f.struct)
            out.append(s)
        for s in self.structs.values():
            visit(s)
        visit(self.top)
        return out

    def all_fields(self):
        for s in [self.top] + list(self.structs.values()):
            for f in s.fields:
                yield f


# ---------------------------------------------------------------------------
# Code generation helpers

class Out:
    def __init__(self):
        self.lines = []
        self.ind = 0

    def __call__(self, line=""):
        if line == "":
            self.lines.append("")
        else:
            self.lines.append("    " * self.ind + line)

    def block(self, head):
        self((head + " {") if head else "{")
        self.ind += 1

    def end(self, tail="}"):
        self.ind -= 1
        self(tail)

    def text(self):
        return "\n".join(self.lines) + "\n"


def c_int_literal(t, val):
    v = int(str(val), 0)
    lo, hi = INT_RANGES[t]
    if v < lo or v > hi:
        die("default %s out of range for %s" % (val, t))
    if t == "int64":
        if v == lo:
            return "INT64_MIN"
        return "INT64_C(%d)" % v
    if t == "int32" and v == lo:
        return "INT32_MIN"
    if t in ("uint32",):
        return "%dU" % v
    return str(v)


def c_string_literal(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def field_default_expr(f):
    """C expression of a scalar field's default (non array, non struct)."""
    t = f.base
    d = f.default
    if t in INT_RANGES:
        return c_int_literal(t, d if d is not None and str(d) != "" else 0)
    if t == "float64":
        return repr(float(d)) if d is not None else "0.0"
    if t == "bool":
        return "true" if d is not None and str(d).lower() == "true" else "false"
    die("no scalar default for %s" % t)


def type_is_scalar(t):
    return t in INT_RANGES or t in ("float64", "bool")


class Gen:
    def __init__(self, msg):
        self.m = msg
        self.ctx = msg.valid
        self.need_isdef = set()
        # Structs used in tagged fields need an is-default test (Kafka writes a
        # tagged struct only when it differs from a default-constructed one).
        for f in msg.all_fields():
            if f.tag is not None and f.struct is not None and not f.is_array and not f.default_is_null():
                self.mark_isdef(f.struct)

    def mark_isdef(self, s):
        if s.ctype in self.need_isdef:
            return
        self.need_isdef.add(s.ctype)
        for f in s.fields:
            if f.struct is not None and not f.is_array and not f.default_is_null():
                self.mark_isdef(f.struct)

    def flex_of(self, f):
        """C expression: is field f encoded flexibly in version v."""
        rng = self.m.flex
        if f is not None and f.flex_override != "inherit":
            rng = intersect(rng, f.flex_override)
        return cond(rng, self.ctx)

    def nullable_of(self, f):
        return cond(f.nullable, self.ctx) if f.nullable else "false"

    # ---- header ----
    def struct_decl(self, s, o):
        o("typedef struct %s {" % s.ctype)
        o.ind += 1
        if not s.fields:
            o("char unused_; /* no fields in any version */")
        for f in s.fields:
            ver = f.js["versions"]
            notes = ["v" + ver]
            if f.nullable:
                notes.append("nullable " + f.js["nullableVersions"])
            if f.tag is not None:
                notes.append("tag %d" % f.tag)
            if f.default is not None:
                notes.append("default %s" % f.default)
            about = f.js.get("about", "").replace("*/", "* /")
            about = " ".join(about.split())
            comment = "/* %s%s */" % (", ".join(notes), (": " + about) if about else "")
            if f.is_array:
                et = f.struct.ctype if f.struct else PRIMS[f.base][0]
                o("%s *%s; %s" % (et, f.c, comment))
                o("int32_t %s_count; /* -1 = null */" % f.c)
            elif f.struct:
                o("%s %s; %s" % (f.struct.ctype, f.c, comment))
                if f.nullable:
                    o("bool %s_present; /* false = null */" % f.c)
            else:
                o("%s %s; %s" % (PRIMS[f.base][0], f.c, comment))
        o.ind -= 1
        o("} %s;" % s.ctype)
        o()

    def header(self):
        m = self.m
        o = Out()
        guard = "SESP_KMSG_%s_H" % m.snake.upper()
        o("/* Generated by tools/kafka_codegen.py from %s; do not edit. */" % os.path.basename(m.path))
        o("/*")
        o(" * %s (%s%s), versions %d-%d, flexible %s." % (
            m.name, m.kind, (" api key %d" % m.api_key) if m.api_key is not None else "",
            m.valid[0], m.valid[1], ("%d+" % m.flex[0]) if m.flex else "never"))
        o(" * Strings and bytes point into the decoded buffer; arrays come from the arena.")
        o(" */")
        o("#ifndef " + guard)
        o("#define " + guard)
        o()
        o('#include "broker/protocol/kproto.h"')
        o()
        up = m.cname.upper()
        if m.api_key is not None:
            o("#define %s_API_KEY %d" % (up, m.api_key))
        o("#define %s_MIN_VERSION %d" % (up, m.valid[0]))
        o("#define %s_MAX_VERSION %d" % (up, m.valid[1]))
        o("#define %s_FIRST_FLEXIBLE %d" % (up, m.flex[0] if m.flex else -1))
        o()
        for s in m.all_structs():
            self.struct_decl(s, o)
        for s in m.all_structs():
            if not s.top:
                o("void %s_init(%s *s);" % (s.ctype, s.ctype))
        o("/* Zeroes m and applies the JSON defaults. */")
        o("void %s_init(%s *m);" % (m.cname, m.cname))
        o("/* Initialises m and decodes it; 0 or SESP_ERR_*. */")
        o("int %s_decode(sesp_bufr *r, int16_t version, %s *m, sesp_arena *a);" % (m.cname, m.cname))
        o("/* 0 or SESP_ERR_* (SESP_ERR_INVALID_ARG for a null where the version does not allow it). */")
        o("int %s_encode(sesp_bufw *w, int16_t version, const %s *m);" % (m.cname, m.cname))
        o()
        o("#endif")
        return o.text()

    # ---- init ----
    def gen_init(self, s, o):
        o("void %s_init(%s *s)" % (s.ctype, s.ctype))
        o("{")
        o.ind += 1
        o("memset(s, 0, sizeof *s);")
        for f in s.fields:
            if f.is_array:
                if f.default_is_null():
                    o("s->%s_count = -1;" % f.c)
                continue
            if f.struct:
                o("%s_init(&s->%s);" % (f.struct.ctype, f.c))
                if f.nullable and not f.default_is_null():
                    o("s->%s_present = true;" % f.c)
                continue
            t = f.base
            if t == "string":
                if f.default_is_null():
                    o("s->%s = SESP_KSTR_NULL;" % f.c)
                elif f.default:
                    o("s->%s = (sesp_kstr){ %s, %d };" % (f.c, c_string_literal(f.default), len(f.default.encode())))
            elif t in ("bytes", "records"):
                if f.default_is_null():
                    o("s->%s = SESP_KBYTES_NULL;" % f.c)
            elif t == "uuid":
                pass
            else:
                d = field_default_expr(f)
                if d not in ("0", "false", "0.0", "INT64_C(0)", "0U"):
                    o("s->%s = %s;" % (f.c, d))
        o.ind -= 1
        o("}")
        o()

    # ---- is-default ----
    def isdef_expr(self, f, x):
        """C expression true when field value x (an lvalue like s->foo) equals its default."""
        if f.is_array:
            return "(%s_count == %d)" % (x, -1 if f.default_is_null() else 0)
        if f.struct:
            if f.nullable:
                return "(!%s_present)" % x if f.default_is_null() else "(%s_present && isdef_%s(&%s))" % (x, f.struct.snake, x)
            return "isdef_%s(&%s)" % (f.struct.snake, x)
        t = f.base
        if t == "string":
            if f.default_is_null():
                return "(%s.len == -1)" % x
            d = f.default or ""
            return "sesp_kp_str_is(%s, %s, %d)" % (x, c_string_literal(d), len(d.encode()))
        if t in ("bytes", "records"):
            return "(%s.len == %d)" % (x, -1 if f.default_is_null() else 0)
        if t == "uuid":
            return "sesp_kp_uuid_zero(&%s)" % x
        if t == "float64":
            # Compare bit patterns so -Wfloat-equal style pitfalls do not matter.
            return "(memcmp(&%s, &(double){ %s }, sizeof(double)) == 0)" % (x, field_default_expr(f))
        return "(%s == %s)" % (x, field_default_expr(f))

    def gen_isdef(self, s, o):
        o("static bool isdef_%s(const %s *s)" % (s.snake, s.ctype))
        o("{")
        o.ind += 1
        if not s.fields:
            o("(void)s;")
            o("return true;")
        else:
            parts = [self.isdef_expr(f, "s->" + f.c) for f in s.fields]
            o("return " + ("\n" + "    " * o.ind + "    && ").join(parts) + ";")
        o.ind -= 1
        o("}")
        o()

    # ---- decode ----
    def dec_value(self, f, o, x, flex, nullable, elem=False):
        """Decodes one scalar/string/struct value of field f into lvalue x from reader r."""
        t = f.base
        if f.struct:
            if f.nullable and not elem:
                o.block("")
                o("int8_t present_ = sesp_bufr_i8(r);")
                o.block("if (present_ == -1 && %s)" % nullable)
                o("%s_present = false;" % x)
                o.end()
                o.block("else if (present_ == 1)")
                o("%s_present = true;" % x)
                o("d_%s(r, v, &%s, a);" % (f.struct.snake, x))
                o.end()
                o.block("else")
                o("sesp_bufr_fail(r, SESP_ERR_MALFORMED);")
                o.end()
                o.end()
            else:
                o("d_%s(r, v, &%s, a);" % (f.struct.snake, x))
        elif t == "bool":
            o("%s = sesp_kp_rd_bool(r);" % x)
        elif t == "uuid":
            o("sesp_kp_rd_uuid(r, &%s);" % x)
        elif t == "string":
            o("sesp_kp_rd_str(r, %s, %s, &%s);" % (flex, nullable, x))
        elif t in ("bytes", "records"):
            o("sesp_kp_rd_bytes(r, %s, %s, &%s);" % (flex, nullable, x))
        else:
            o("%s = %s(r);" % (x, PRIMS[t][2]))

    def dec_field(self, f, o):
        flex = self.flex_of(f)
        nullable = self.nullable_of(f)
        x = "s->" + f.c
        if f.is_array:
            minsz = 1 if f.struct else PRIMS[f.base][1]
            o.block("")
            o("int32_t n_;")
            o.block("if (sesp_kp_rd_arrlen(r, %s, %s, %d, &n_))" % (flex, nullable, minsz))
            o("%s_count = n_;" % x)
            o.block("if (n_ > 0)")
            o("%s = sesp_kp_alloc(r, a, (size_t)n_, sizeof *%s);" % (x, x))
            o.block("for (int32_t i_ = 0; %s && i_ < n_ && !r->err; i_++)" % x)
            self.dec_value(f, o, "%s[i_]" % x, flex, "false", elem=True)
            o.end()
            o.end()
            o.end()
            o.end()
        else:
            self.dec_value(f, o, x, flex, nullable)

    def gen_decode(self, s, o):
        m = self.m
        tagged = sorted([f for f in s.fields if f.tag is not None], key=lambda f: f.tag)
        for f in tagged:
            o("static void dtag_%s_%s(sesp_bufr *r, int16_t v, %s *s, sesp_arena *a)" % (s.snake, f.c, s.ctype))
            o("{")
            o.ind += 1
            o("(void)v;")
            o("(void)a;")
            self.dec_field(f, o)
            o.ind -= 1
            o("}")
            o()
        o("static int d_%s(sesp_bufr *r, int16_t v, %s *s, sesp_arena *a)" % (s.snake, s.ctype))
        o("{")
        o.ind += 1
        o("(void)v;")
        o("(void)a;")
        o("%s_init(s);" % s.ctype)
        for f in s.fields:
            if f.tag is not None:
                continue
            c = cond(f.versions, self.ctx)
            if c == "false":
                continue
            if c != "true":
                o.block("if (%s)" % c)
            self.dec_field(f, o)
            if c != "true":
                o.end()
        fl = cond(m.flex, self.ctx)
        if fl != "false":
            if fl != "true":
                o.block("if (%s)" % fl)
            else:
                o.block("")
            o("uint32_t ntag_;")
            o("int64_t prev_ = -1;")
            o.block("if (sesp_kp_rd_tag_count(r, &ntag_))")
            o.block("for (uint32_t k_ = 0; k_ < ntag_ && !r->err; k_++)")
            o("uint32_t tag_;")
            o("sesp_bufr sub_;")
            o.block("if (!sesp_kp_rd_tag(r, &prev_, &tag_, &sub_))")
            o("break;")
            o.end()
            if tagged:
                o.block("switch (tag_)")
                for f in tagged:
                    c = cond(f.tagged, self.ctx)
                    o("case %d:" % f.tag)
                    o.ind += 1
                    o.block(("if (%s)" % c) if c != "true" else "")
                    o("dtag_%s_%s(&sub_, v, s, a);" % (s.snake, f.c))
                    o("sesp_kp_end_sub(r, &sub_);")
                    o.end()
                    o("break;")
                    o.ind -= 1
                o("default: /* unknown tags are skipped */")
                o.ind += 1
                o("break;")
                o.ind -= 1
                o.end()
            o.end()
            o.end()
            o.end()
        o("return r->err;")
        o.ind -= 1
        o("}")
        o()

    # ---- encode ----
    def enc_value(self, f, o, x, flex, nullable, elem=False):
        t = f.base
        if f.struct:
            if f.nullable and not elem:
                o.block("if (!%s_present)" % x)
                o.block("if (!%s)" % nullable)
                o("return SESP_ERR_INVALID_ARG;")
                o.end()
                o("sesp_bufw_i8(w, -1);")
                o.end()
                o.block("else")
                o("sesp_bufw_i8(w, 1);")
                o.block("if ((rc = e_%s(w, v, &%s)) != 0)" % (f.struct.snake, x))
                o("return rc;")
                o.end()
                o.end()
            else:
                o.block("if ((rc = e_%s(w, v, &%s)) != 0)" % (f.struct.snake, x))
                o("return rc;")
                o.end()
        elif t == "bool":
            o("sesp_bufw_i8(w, %s ? 1 : 0);" % x)
        elif t == "uuid":
            o("sesp_kp_wr_uuid(w, &%s);" % x)
        elif t == "string":
            o.block("if ((rc = sesp_kp_wr_str(w, %s, %s, %s)) != 0)" % (flex, nullable, x))
            o("return rc;")
            o.end()
        elif t in ("bytes", "records"):
            o.block("if ((rc = sesp_kp_wr_bytes(w, %s, %s, %s)) != 0)" % (flex, nullable, x))
            o("return rc;")
            o.end()
        else:
            o("%s(w, %s);" % (PRIMS[t][3], x))

    def enc_field(self, f, o):
        flex = self.flex_of(f)
        nullable = self.nullable_of(f)
        x = "s->" + f.c
        if f.is_array:
            o.block("if ((rc = sesp_kp_wr_arrlen(w, %s, %s, %s_count, %s)) != 0)" % (flex, nullable, x, x))
            o("return rc;")
            o.end()
            o.block("for (int32_t i_ = 0; i_ < %s_count; i_++)" % x)
            self.enc_value(f, o, "%s[i_]" % x, flex, "false", elem=True)
            o.end()
        else:
            self.enc_value(f, o, x, flex, nullable)

    def gen_encode(self, s, o):
        m = self.m
        tagged = sorted([f for f in s.fields if f.tag is not None], key=lambda f: f.tag)
        for f in tagged:
            o("static int etag_%s_%s(sesp_bufw *w, int16_t v, const %s *s)" % (s.snake, f.c, s.ctype))
            o("{")
            o.ind += 1
            o("int rc = 0;")
            o("(void)v;")
            self.enc_field(f, o)
            o("(void)rc;")
            o("return w->err;")
            o.ind -= 1
            o("}")
            o()
        o("static int e_%s(sesp_bufw *w, int16_t v, const %s *s)" % (s.snake, s.ctype))
        o("{")
        o.ind += 1
        o("int rc = 0;")
        o("(void)v;")
        o("(void)s;")
        for f in s.fields:
            if f.tag is not None:
                continue
            c = cond(f.versions, self.ctx)
            if c == "false":
                continue
            if c != "true":
                o.block("if (%s)" % c)
            self.enc_field(f, o)
            if c != "true":
                o.end()
        fl = cond(m.flex, self.ctx)
        if fl != "false":
            if fl != "true":
                o.block("if (%s)" % fl)
            else:
                o.block("")
            o("uint32_t ntag_ = 0;")
            conds = []
            for f in tagged:
                c = cond(f.tagged, self.ctx)
                c = "" if c == "true" else c + " && "
                conds.append("%s!%s" % (c, self.isdef_expr(f, "s->" + f.c)))
            for c in conds:
                o("ntag_ += (%s) ? 1 : 0;" % c)
            o("sesp_bufw_uvarint(w, ntag_);")
            for f, c in zip(tagged, conds):
                o.block("if (%s)" % c)
                o("sesp_bufw sub_;")
                o("sesp_bufw_init(&sub_, 0, w->max_size);")
                o.block("if ((rc = etag_%s_%s(&sub_, v, s)) != 0)" % (s.snake, f.c))
                o("sesp_bufw_free(&sub_);")
                o("return rc;")
                o.end()
                o.block("if ((rc = sesp_kp_wr_tag(w, %d, &sub_)) != 0)" % f.tag)
                o("return rc;")
                o.end()
                o.end()
            o.end()
        o("(void)rc;")
        o("return w->err;")
        o.ind -= 1
        o("}")
        o()

    def source(self):
        m = self.m
        o = Out()
        o("/* Generated by tools/kafka_codegen.py from %s; do not edit. */" % os.path.basename(m.path))
        o('#include "broker/protocol/generated/%s.h"' % m.snake)
        o()
        structs = m.all_structs()
        for s in structs:
            if not s.top:
                o("static int d_%s(sesp_bufr *r, int16_t v, %s *s, sesp_arena *a);" % (s.snake, s.ctype))
                o("static int e_%s(sesp_bufw *w, int16_t v, const %s *s);" % (s.snake, s.ctype))
        o()
        for s in structs:
            self.gen_init(s, o)
        for s in structs:
            if s.ctype in self.need_isdef:
                self.gen_isdef(s, o)
        for s in structs:
            self.gen_decode(s, o)
            self.gen_encode(s, o)
        o("int %s_decode(sesp_bufr *r, int16_t version, %s *m, sesp_arena *a)" % (m.cname, m.cname))
        o("{")
        o.ind += 1
        o("if (version < %d || version > %d)" % m.valid)
        o("    return SESP_ERR_UNSUPPORTED;")
        o("if (r->err)")
        o("    return r->err;")
        o("return d_%s(r, version, m, a);" % m.top.snake)
        o.ind -= 1
        o("}")
        o()
        o("int %s_encode(sesp_bufw *w, int16_t version, const %s *m)" % (m.cname, m.cname))
        o("{")
        o.ind += 1
        o("if (version < %d || version > %d)" % m.valid)
        o("    return SESP_ERR_UNSUPPORTED;")
        o("if (w->err)")
        o("    return w->err;")
        o("return e_%s(w, version, m);" % m.top.snake)
        o.ind -= 1
        o("}")
        return o.text()

    # ---- test fillers ----
    def fill_value(self, f, o, x, k, elem=False):
        """Sets lvalue x to a seed-dependent value different from f's default."""
        t = f.base
        k = ("%du" % k) if isinstance(k, int) else "(uint32_t)(%s)" % k
        if f.struct:
            o("f_%s(&%s, v, a, seed * 31u + %s);" % (f.struct.snake, x, k))
            if f.nullable and not elem:
                o("%s_present = !(%s) || (seed + %s) %% 5u != 0;" % (x, self.nullable_of(f), k))
        elif t == "bool":
            o("%s = %s;" % (x, "false" if field_default_expr(f) == "true" else "true"))
        elif t == "uuid":
            o("sesp_kt_uuid(&%s, seed + %s);" % (x, k))
        elif t == "string":
            null = "false" if elem else self.nullable_of(f)
            o("%s = sesp_kt_str(a, seed + %s, %s);" % (x, k, null))
        elif t in ("bytes", "records"):
            null = "false" if elem else self.nullable_of(f)
            o("%s = sesp_kt_bytes(a, seed + %s, %s);" % (x, k, null))
        elif t == "float64":
            o("%s = (double)(seed + %s) + 0.25;" % (x, k))
        else:
            ct = PRIMS[t][0]
            d = "0" if elem else field_default_expr(f)
            o("%s = (%s)(seed * 13u + %s);" % (x, ct, k))
            o("if (%s == %s)" % (x, d))
            o("    %s = (%s)(%s + 1);" % (x, ct, x))

    def gen_fill(self, s, o):
        o("static void f_%s(%s *s, int16_t v, sesp_arena *a, uint32_t seed)" % (s.snake, s.ctype))
        o("{")
        o.ind += 1
        o("(void)v;")
        o("(void)a;")
        o("(void)seed;")
        o("%s_init(s);" % s.ctype)
        for k, f in enumerate(s.fields):
            c = cond(f.versions, self.ctx)
            if c == "false":
                continue
            if c != "true":
                o.block("if (%s)" % c)
            x = "s->" + f.c
            if f.is_array:
                nl = self.nullable_of(f)
                o.block("if (%s && (seed + %du) %% 5u == 0)" % (nl, k) if nl != "false" else "if (0)")
                o("%s_count = -1;" % x)
                o.end()
                o.block("else")
                o("int32_t n_ = (int32_t)(1 + (seed + %du) %% 2u);" % k)
                o("%s = sesp_arena_calloc(a, (size_t)n_, sizeof *%s);" % (x, x))
                o("%s_count = %s ? n_ : 0;" % (x, x))
                o.block("for (int32_t i_ = 0; i_ < %s_count; i_++)" % x)
                if f.struct:
                    o("f_%s(&%s[i_], v, a, seed * 31u + %du + (uint32_t)i_ * 7u);" % (f.struct.snake, x, k))
                else:
                    self.fill_value(f, o, "%s[i_]" % x, "%d + (uint32_t)i_ * 7" % k, elem=True)
                o.end()
                o.end()
            else:
                self.fill_value(f, o, x, k)
            if c != "true":
                o.end()
        o.ind -= 1
        o("}")
        o()

    def eq_value(self, f, x, y, elem=False):
        t = f.base
        if f.struct:
            e = "q_%s(&%s, &%s, v)" % (f.struct.snake, x, y)
            if f.nullable and not elem:
                return "(%s_present == %s_present && (!%s_present || %s))" % (x, y, x, e)
            return e
        if t == "string":
            return "sesp_kt_str_eq(%s, %s)" % (x, y)
        if t in ("bytes", "records"):
            return "sesp_kt_bytes_eq(%s, %s)" % (x, y)
        if t in ("uuid", "float64"):
            return "(memcmp(&%s, &%s, sizeof %s) == 0)" % (x, y, x)
        return "(%s == %s)" % (x, y)

    def gen_eq(self, s, o):
        o("static bool q_%s(const %s *x, const %s *y, int16_t v)" % (s.snake, s.ctype, s.ctype))
        o("{")
        o.ind += 1
        o("(void)x;")
        o("(void)y;")
        o("(void)v;")
        for f in s.fields:
            c = cond(f.versions, self.ctx)
            if c == "false":
                continue
            xf, yf = "x->" + f.c, "y->" + f.c
            if f.is_array:
                o.block("if (%s)" % c)
                o.block("if (%s_count != %s_count)" % (xf, yf))
                o("return false;")
                o.end()
                o.block("for (int32_t i_ = 0; i_ < %s_count; i_++)" % xf)
                o.block("if (!%s)" % self.eq_value(f, xf + "[i_]", yf + "[i_]", elem=True))
                o("return false;")
                o.end()
                o.end()
                o.end()
            else:
                o.block("if (%s && !%s)" % (c, self.eq_value(f, xf, yf)))
                o("return false;")
                o.end()
        o("return true;")
        o.ind -= 1
        o("}")
        o()

    def fill_source(self):
        m = self.m
        o = Out()
        o("/* Generated by tools/kafka_codegen.py from %s; do not edit. */" % os.path.basename(m.path))
        o("/* Fills every field present in a version with a seed-dependent non-default value. */")
        o('#include "tests/unit/protocol/generated/kmsg_fill.h"')
        o()
        for s in m.all_structs():
            o("static void f_%s(%s *s, int16_t v, sesp_arena *a, uint32_t seed);" % (s.snake, s.ctype))
        o()
        for s in m.all_structs():
            o("static bool q_%s(const %s *x, const %s *y, int16_t v);" % (s.snake, s.ctype, s.ctype))
        o()
        for s in m.all_structs():
            self.gen_fill(s, o)
            self.gen_eq(s, o)
        c = m.cname
        o("void %s_fill_test(%s *m, int16_t version, sesp_arena *a, uint32_t seed)" % (c, c))
        o("{")
        o("    f_%s(m, version, a, seed);" % m.top.snake)
        o("}")
        o()
        o("static int t_fill_encode_%s(int16_t v, uint32_t seed, sesp_arena *a, sesp_bufw *out)" % m.snake)
        o("{")
        o("    %s *m = sesp_arena_alloc(a, sizeof *m);" % c)
        o("    if (!m)")
        o("        return SESP_ERR_NOMEM;")
        o("    %s_fill_test(m, v, a, seed);" % c)
        o("    return %s_encode(out, v, m);" % c)
        o("}")
        o()
        o("static int t_reencode_%s(int16_t v, const uint8_t *p, size_t len, size_t *consumed, sesp_bufw *out, sesp_arena *a)" % m.snake)
        o("{")
        o("    %s *m = sesp_arena_alloc(a, sizeof *m);" % c)
        o("    sesp_bufr r;")
        o("    if (!m)")
        o("        return SESP_ERR_NOMEM;")
        o("    sesp_bufr_init(&r, p, len);")
        o("    int rc = %s_decode(&r, v, m, a);" % c)
        o("    *consumed = r.pos;")
        o("    if (rc || !out)")
        o("        return rc;")
        o("    return %s_encode(out, v, m);" % c)
        o("}")
        o()
        o("static int t_fill_check_%s(int16_t v, uint32_t seed, sesp_arena *a)" % m.snake)
        o("{")
        o("    %s *m1 = sesp_arena_alloc(a, sizeof *m1);" % c)
        o("    %s *m2 = sesp_arena_alloc(a, sizeof *m2);" % c)
        o("    sesp_bufw w;")
        o("    sesp_bufr r;")
        o("    if (!m1 || !m2)")
        o("        return SESP_ERR_NOMEM;")
        o("    %s_fill_test(m1, v, a, seed);" % c)
        o("    sesp_bufw_init(&w, 0, 0);")
        o("    int rc = %s_encode(&w, v, m1);" % c)
        o("    if (rc == 0) {")
        o("        sesp_bufr_init(&r, w.p, w.len);")
        o("        rc = %s_decode(&r, v, m2, a);" % c)
        o("        if (rc == 0 && !q_%s(m1, m2, v))" % m.top.snake)
        o("            rc = SESP_ERR_CONFLICT;")
        o("    }")
        o("    sesp_bufw_free(&w);")
        o("    return rc;")
        o("}")
        o()
        o("const sesp_kmsg_test_entry sesp_kmsg_test_%s = {" % m.snake)
        o('    "%s", %d, %d, %d, %d, t_fill_encode_%s, t_reencode_%s, t_fill_check_%s,' % (
            m.name, -1 if m.api_key is None else m.api_key,
            {"request": 0, "response": 1}.get(m.kind, 2), m.valid[0], m.valid[1], m.snake, m.snake, m.snake))
        o("};")
        return o.text()


# ---------------------------------------------------------------------------

def write(path, text):
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if old != text:
        with open(path, "w") as f:
            f.write(text)


def main(argv):
    if len(argv) < 3:
        die("usage: kafka_codegen.py SPEC_DIR OUT_DIR [TEST_OUT_DIR]")
    spec, out = argv[1], argv[2]
    if len(argv) > 3:
        test_out = argv[3]
    else:
        root = os.path.dirname(os.path.dirname(os.path.abspath(out)))
        if os.path.basename(os.path.dirname(os.path.abspath(out))) == "protocol":
            root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(out))))
        test_out = os.path.join(root, "tests", "unit", "protocol", "generated")
    paths = sorted(glob.glob(os.path.join(spec, "*Request.json")) +
                   glob.glob(os.path.join(spec, "*Response.json")) +
                   glob.glob(os.path.join(spec, "group-coordinator", "*.json")) +
                   [os.path.join(spec, "ConsumerProtocolSubscription.json"),
                    os.path.join(spec, "ConsumerProtocolAssignment.json")])
    msgs = []
    for p in paths:
        if not os.path.exists(p):
            continue
        js = load_json(p)
        if js["type"] not in ("request", "response", "data"):
            continue
        msgs.append(Message(js, p))
    msgs.sort(key=lambda m: m.name)
    os.makedirs(out, exist_ok=True)
    os.makedirs(test_out, exist_ok=True)
    for m in msgs:
        g = Gen(m)
        write(os.path.join(out, m.snake + ".h"), g.header())
        write(os.path.join(out, m.snake + ".c"), g.source())
        write(os.path.join(test_out, m.snake + "_fill.c"), g.fill_source())
    gen_aggregate(msgs, out, test_out)


def gen_aggregate(msgs, out, test_out):
    hdr = "/* Generated by tools/kafka_codegen.py; do not edit. Every generated Kafka message codec. */\n"
    o = Out()
    o(hdr.rstrip())
    o("#ifndef SESP_KMSG_H")
    o("#define SESP_KMSG_H")
    o()
    o('#include "broker/protocol/generated/api_table.h"')
    for m in msgs:
        o('#include "broker/protocol/generated/%s.h"' % m.snake)
    o()
    o("#endif")
    write(os.path.join(out, "kmsg.h"), o.text())

    reqs = {m.api_key: m for m in msgs if m.kind == "request"}
    resps = {m.api_key: m for m in msgs if m.kind == "response"}
    for k in reqs:
        if k not in resps:
            die("request %s has no response" % reqs[k].name)
    keys = sorted(reqs)

    o = Out()
    o("/* Generated by tools/kafka_codegen.py; do not edit. */")
    o("/*")
    o(" * The table of Kafka APIs known to the codecs: key, name, versions the")
    o(" * generated code can decode, first flexible version.  Which of them the")
    o(" * broker advertises is the broker's decision, not this table's.")
    o(" */")
    o("#ifndef SESP_KAPI_TABLE_H")
    o("#define SESP_KAPI_TABLE_H")
    o()
    o("#include <stddef.h>")
    o("#include <stdint.h>")
    o()
    o("#include \"common/arena.h\"")
    o("#include \"common/buf.h\"")
    o()
    o("typedef struct { int16_t api_key; const char *name; int16_t min_version, max_version; int16_t first_flexible; /* -1 none */ } sesp_kapi_info;")
    o()
    o("enum {")
    for k in keys:
        o("    SESP_KAPI_%s = %d," % (snake(reqs[k].name[:-len("Request")]).upper(), k))
    o("};")
    o()
    o("/* NULL if unknown. */")
    o("const sesp_kapi_info *sesp_kapi_lookup(int16_t api_key);")
    o("/* All known APIs in api-key order. */")
    o("const sesp_kapi_info *sesp_kapi_all(size_t *count);")
    o()
    o("/* Decode then re-encode a request body of api_key/version; used by the fuzzer and the round-trip tests.")
    o(" * The whole body must be consumed (else SESP_ERR_MALFORMED).  0 or SESP_ERR_* */")
    o("int sesp_kmsg_request_roundtrip(int16_t api_key, int16_t version, const uint8_t *body, size_t len, sesp_bufw *out, sesp_arena *a);")
    o("int sesp_kmsg_response_roundtrip(int16_t api_key, int16_t version, const uint8_t *body, size_t len, sesp_bufw *out, sesp_arena *a);")
    o()
    o("#endif")
    write(os.path.join(out, "api_table.h"), o.text())

    o = Out()
    o("/* Generated by tools/kafka_codegen.py; do not edit. */")
    o('#include "broker/protocol/generated/api_table.h"')
    o()
    o("static const sesp_kapi_info apis[] = {")
    for k in keys:
        m = reqs[k]
        o('    { %d, "%s", %d, %d, %d },' % (k, m.name[:-len("Request")], m.valid[0], m.valid[1],
                                          m.flex[0] if m.flex else -1))
    o("};")
    o()
    maxk = max(keys)
    o("static const int16_t index_of[%d] = {" % (maxk + 1))
    idx = {k: i for i, k in enumerate(keys)}
    row = []
    for k in range(maxk + 1):
        row.append(str(idx.get(k, -1)))
    for i in range(0, len(row), 16):
        o("    " + ", ".join(row[i:i + 16]) + ",")
    o("};")
    o()
    o("const sesp_kapi_info *sesp_kapi_lookup(int16_t api_key)")
    o("{")
    o("    if (api_key < 0 || api_key > %d || index_of[api_key] < 0)" % maxk)
    o("        return NULL;")
    o("    return &apis[index_of[api_key]];")
    o("}")
    o()
    o("const sesp_kapi_info *sesp_kapi_all(size_t *count)")
    o("{")
    o("    *count = sizeof apis / sizeof apis[0];")
    o("    return apis;")
    o("}")
    write(os.path.join(out, "api_table.c"), o.text())

    for kind, table in (("request", reqs), ("response", resps)):
        o = Out()
        o("/* Generated by tools/kafka_codegen.py; do not edit. */")
        o("/* Generic decode + re-encode of %s bodies by api key, for the fuzzer and round-trip tests. */" % kind)
        o('#include "broker/protocol/generated/kmsg.h"')
        o()
        for k in keys:
            m = table[k]
            o("static int rt_%s(int16_t v, sesp_bufr *r, sesp_bufw *out, sesp_arena *a)" % m.snake)
            o("{")
            o("    %s *m = sesp_arena_alloc(a, sizeof *m);" % m.cname)
            o("    if (!m)")
            o("        return SESP_ERR_NOMEM;")
            o("    int rc = %s_decode(r, v, m, a);" % m.cname)
            o("    if (rc)")
            o("        return rc;")
            o("    if (r->pos != r->len)")
            o("        return SESP_ERR_MALFORMED;")
            o("    return %s_encode(out, v, m);" % m.cname)
            o("}")
            o()
        o("int sesp_kmsg_%s_roundtrip(int16_t api_key, int16_t version, const uint8_t *body, size_t len, sesp_bufw *out, sesp_arena *a)" % kind)
        o("{")
        o("    sesp_bufr r;")
        o("    sesp_bufr_init(&r, body, len);")
        o("    switch (api_key) {")
        for k in keys:
            o("    case %d:" % k)
            o("        return rt_%s(version, &r, out, a);" % table[k].snake)
        o("    default:")
        o("        return SESP_ERR_UNSUPPORTED;")
        o("    }")
        o("}")
        write(os.path.join(out, "%s_roundtrip.c" % kind), o.text())
    stale = os.path.join(out, "roundtrip.c")
    if os.path.exists(stale):
        os.remove(stale)

    # Test support: one table of every message with type-erased helpers.
    o = Out()
    o("/* Generated by tools/kafka_codegen.py; do not edit. */")
    o("#ifndef SESP_KMSG_FILL_H")
    o("#define SESP_KMSG_FILL_H")
    o()
    o('#include "broker/protocol/generated/kmsg.h"')
    o('#include "tests/unit/protocol/fill_support.h"')
    o()
    o("typedef struct {")
    o("    const char *name;")
    o("    int16_t api_key;      /* -1 for data records */")
    o("    int kind;             /* 0 request, 1 response, 2 data */")
    o("    int16_t min_version, max_version;")
    o("    /* Fills a message for version/seed and encodes it into out. */")
    o("    int (*fill_encode)(int16_t v, uint32_t seed, sesp_arena *a, sesp_bufw *out);")
    o("    /* Decodes p/len (reports bytes consumed) and, when out is not NULL, re-encodes into out. */")
    o("    int (*reencode)(int16_t v, const uint8_t *p, size_t len, size_t *consumed, sesp_bufw *out, sesp_arena *a);")
    o("    /* Fills, encodes, decodes and compares every field present in v: 0 if all equal,")
    o("     * SESP_ERR_CONFLICT if a decoded field differs from what was filled. */")
    o("    int (*fill_check)(int16_t v, uint32_t seed, sesp_arena *a);")
    o("} sesp_kmsg_test_entry;")
    o()
    for m in msgs:
        o("void %s_fill_test(%s *m, int16_t version, sesp_arena *a, uint32_t seed);" % (m.cname, m.cname))
    o()
    for m in msgs:
        o("extern const sesp_kmsg_test_entry sesp_kmsg_test_%s;" % m.snake)
    o()
    o("extern const sesp_kmsg_test_entry *const sesp_kmsg_test_entries[];")
    o("extern const size_t sesp_kmsg_test_entry_count;")
    o()
    o("#endif")
    write(os.path.join(test_out, "kmsg_fill.h"), o.text())

    o = Out()
    o("/* Generated by tools/kafka_codegen.py; do not edit. */")
    o('#include "tests/unit/protocol/generated/kmsg_fill.h"')
    o()
    o("const sesp_kmsg_test_entry *const sesp_kmsg_test_entries[] = {")
    for m in msgs:
        o("    &sesp_kmsg_test_%s," % m.snake)
    o("};")
    o("const size_t sesp_kmsg_test_entry_count = sizeof sesp_kmsg_test_entries / sizeof sesp_kmsg_test_entries[0];")
    write(os.path.join(test_out, "fill_table.c"), o.text())


if __name__ == "__main__":
    main(sys.argv)
