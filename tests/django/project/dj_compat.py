"""Drop-in for Django's ManifestStaticFilesStorage: ES-module forms, manifests, re-runs.

Each ES-module form is collected by Django's own storage (with its
``support_js_module_import_aggregation`` flag), by ours, and by ours with
Django's flag set on a subclass; all three must give the expected output
written out below, byte for byte.
"""

import hashlib
import json
import os
import shutil
import tempfile
from io import StringIO
from pathlib import Path

import django
from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.management import call_command
from django.test import SimpleTestCase, override_settings

from staticserve.django.storage import CompressedManifestStaticFilesStorage

OURS = "staticserve.django.storage.CompressedManifestStaticFilesStorage"
WHITENOISE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
DJANGO = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
DJANGO_FLAG = "tests.django.project.dj_compat.DjangoWithModules"
OURS_FLAG = "tests.django.project.dj_compat.OursWithDjangosFlag"


class DjangoWithModules(ManifestStaticFilesStorage):
    support_js_module_import_aggregation = True


class OursWithDjangosFlag(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True


DJANGO_5 = django.VERSION >= (5, 0)
DEP = "export const a = 1;\n"
H = hashlib.md5(DEP.encode()).hexdigest()[:12]  # dep.js's hash, as Django names it

#: (source, output): Django's output with the flag on, ``H`` = dep.js's hash.
#: ``None`` = left exactly as written (Django does not rewrite that form).
FORMS = [
    ('import a from "./dep.js";', 'import a from "./dep.H.js";'),
    ("import a from './dep.js';", 'import a from "./dep.H.js";'),  # quotes normalised
    ('import a from "./dep.js" ;', 'import a from "./dep.H.js";'),
    ('import { a, b as c } from "./dep.js";', 'import { a, b as c } from "./dep.H.js";'),
    ('import{a}from"./dep.js";', 'import{a} from "./dep.H.js";'),  # minified
    ('import * as m from "./dep.js";', 'import * as m from "./dep.H.js";'),
    # Django 5.0 added minified namespace imports; 4.2 leaves them as written.
    ('import*as m from"./dep.js";', 'import*as m from "./dep.H.js";' if DJANGO_5 else None),
    ('import {\n  a,\n  b\n} from "./dep.js";', 'import {\n  a,\n  b\n} from "./dep.H.js";'),
    ('import "./dep.js";', 'import"./dep.H.js";'),  # side effect: space dropped
    ("import './dep.js' ;", 'import"./dep.H.js";'),
    ('const m = import("./dep.js");', 'const m = import("./dep.H.js");'),
    ("const m = import('./dep.js');", 'const m = import("./dep.H.js");'),
    ('export * from "./dep.js";', 'export * from "./dep.H.js";'),
    ('export * as ns from "./dep.js";', 'export * as ns from "./dep.H.js";'),
    ("export { a as b } from './dep.js';", 'export { a as b } from "./dep.H.js";'),
    ('export {\n  a\n} from "./dep.js";', 'export {\n  a\n} from "./dep.H.js";'),
    ('import a from "/static/js/dep.js";', 'import a from "/static/js/dep.H.js";'),
    ('import a from "../js/dep.js";', 'import a from "../js/dep.H.js";'),
    ('import a from "./dep.js?v=2#x";', 'import a from "./dep.H.js?v=2#x";'),
    ('// import a from "./dep.js";', '// import a from "./dep.H.js";'),  # comments too
    ('import a from "bare-name";', None),  # a module name, not a file
    ('import a from "https://cdn.example.com/x.js";', None),
    ('import a from "/elsewhere/x.js";', None),  # root-relative outside STATIC_URL
    ('import a from "./dep.js"', None),  # no semicolon: Django's patterns need one
    ('const m = import( "./dep.js" );', None),  # spaces inside import( )
    ("const m = import(`./dep.js`);", None),  # template literal
    ('export*from"./dep.js";', None),  # minified export *
]


def storages(backend, **options):
    conf = {"BACKEND": backend}
    if options:
        conf["OPTIONS"] = options
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": conf,
    }


class Tmp(SimpleTestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.tmp)

    def write_tree(self, files, name="src"):
        src = self.tmp / name
        for rel, text in files.items():
            path = src / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return src

    def collect(self, backend, src, root=None, **extra):
        root = root or self.tmp / f"root-{backend.rsplit('.', 1)[-1]}"
        out = StringIO()
        with override_settings(
            STATIC_ROOT=str(root),
            STORAGES=storages(backend),
            STATICFILES_DIRS=[src],
            INSTALLED_APPS=["django.contrib.staticfiles"],
            STATICSERVE_COMPRESS_WORKERS=1,
            **extra,
        ):
            call_command("collectstatic", interactive=False, verbosity=1, stdout=out)
        return root, out.getvalue()


class ESModuleFormsTests(Tmp):
    def collect_forms(self, backend):
        files = {"js/dep.js": DEP}
        files.update({f"js/form{i:02}.js": src + "\n" for i, (src, _) in enumerate(FORMS)})
        root, _ = self.collect(backend, self.write_tree(files, "forms"))
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        return {i: (root / paths[f"js/form{i:02}.js"]).read_text() for i in range(len(FORMS))}

    def check(self, backend):
        outputs = self.collect_forms(backend)
        for i, (source, expected) in enumerate(FORMS):
            want = (source if expected is None else expected.replace(".H.", f".{H}.")) + "\n"
            with self.subTest(backend=backend, source=source):
                self.assertEqual(outputs[i], want)

    def test_djangos_storage_gives_the_written_out_outputs(self):
        self.check(DJANGO_FLAG)  # the table is Django's behaviour, checked against Django

    def test_ours_gives_djangos_output_for_every_form(self):
        self.check(OURS)

    def test_ours_with_djangos_flag_applies_the_patterns_once(self):
        self.check(OURS_FLAG)

    def test_mjs_files_get_the_same_rewriting(self):
        src = self.write_tree(
            {"dep.js": DEP, "app.mjs": "import a from './dep.js';\nimport('./dep.js');\n"}
        )
        root, _ = self.collect(OURS, src)
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        self.assertEqual(
            (root / paths["app.mjs"]).read_text(),
            f'import a from "./dep.{H}.js";\nimport("./dep.{H}.js");\n',
        )

    def test_bare_dynamic_import_is_left_alone_without_djangos_flag(self):
        src = self.write_tree({"app.js": 'import("lodash");\n'})
        root, _ = self.collect(OURS, src)
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        self.assertEqual((root / paths["app.js"]).read_text(), 'import("lodash");\n')

    def test_bare_dynamic_import_is_missing_with_djangos_flag_as_in_django(self):
        src = self.write_tree({"app.js": 'import("lodash");\n'})
        with self.assertRaisesMessage(ValueError, "could not be found"):
            self.collect(DJANGO_FLAG, src)
        with self.assertRaisesMessage(ValueError, "app.js:1:9: reference to missing file"):
            self.collect(OURS_FLAG, src)

    def test_es_modules_off_leaves_imports_as_django_does(self):
        src = self.write_tree({"dep.js": DEP, "app.js": 'import a from "./dep.js";\n'})
        root, _ = self.collect(OURS, src, STATICSERVE_ES_MODULES=False)
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        self.assertEqual((root / paths["app.js"]).read_text(), 'import a from "./dep.js";\n')


SOURCES = {
    "css/a.css": '@import "b.css";\nbody { background: url("../img/x.png?v=1#f"); }\n',
    "css/b.css": "p { background: url(../img/x.png); }\n" * 30,
    "img/x.png": "not really a png",
    "js/app.js": 'import { a } from "./dep.js";\nconsole.log(a);\n',
    "js/dep.js": DEP * 40,
}


class ManifestTests(Tmp):
    def test_manifest_is_serialised_as_djangos(self):
        src = self.write_tree(SOURCES)
        theirs, _ = self.collect(DJANGO_FLAG, src)
        ours, _ = self.collect(OURS, src)
        their_text = (theirs / "staticfiles.json").read_text()
        our_text = (ours / "staticfiles.json").read_text()
        # Django's bytes, then our extra keys after them.
        self.assertTrue(our_text.startswith(their_text[:-1] + ', "files": {'), our_text[:300])
        ours_data = json.loads(our_text)
        self.assertEqual(list(ours_data)[:3], ["paths", "version", "hash"])
        self.assertEqual(ours_data["version"], "1.1")

    def test_every_hashed_file_is_byte_identical_to_djangos(self):
        src = self.write_tree(SOURCES)
        theirs, _ = self.collect(DJANGO_FLAG, src)
        ours, _ = self.collect(OURS, src)
        paths = json.loads((theirs / "staticfiles.json").read_text())["paths"]
        self.assertEqual(json.loads((ours / "staticfiles.json").read_text())["paths"], paths)
        for hashed in paths.values():
            self.assertEqual((ours / hashed).read_bytes(), (theirs / hashed).read_bytes(), hashed)

    def check_reads(self, root):
        with override_settings(STATIC_ROOT=str(root), STORAGES=storages(OURS)):
            from django.contrib.staticfiles.storage import staticfiles_storage

            paths = json.loads((root / "staticfiles.json").read_text())["paths"]
            self.assertEqual(staticfiles_storage.hashed_files, paths)
            self.assertEqual(staticfiles_storage.url("css/a.css"), "/static/" + paths["css/a.css"])

    def test_reads_a_manifest_written_by_django(self):
        root, _ = self.collect(DJANGO, self.write_tree(SOURCES))
        self.check_reads(root)

    def test_reads_a_manifest_written_by_whitenoise(self):
        root, _ = self.collect(WHITENOISE, self.write_tree(SOURCES))
        self.check_reads(root)

    def test_reads_a_manifest_written_by_staticserve_build(self):
        from staticserve.pipeline.cli import main

        src = self.write_tree(SOURCES)
        root = self.tmp / "built"
        self.assertEqual(main(["build", str(src), "--out", str(root), "--quiet"]), 0)
        self.check_reads(root)

    def test_manifest_strict_error_names_the_file_and_suggests_collectstatic(self):
        root, _ = self.collect(OURS, self.write_tree(SOURCES))
        with override_settings(STATIC_ROOT=str(root), STORAGES=storages(OURS)):
            from django.contrib.staticfiles.storage import staticfiles_storage

            with self.assertRaises(ValueError) as caught:
                staticfiles_storage.url("css/new.css")
        message = str(caught.exception)
        self.assertTrue(message.startswith("Missing staticfiles manifest entry for 'css/new.css'"))
        self.assertIn(str(root / "staticfiles.json"), message)
        self.assertIn("Run 'python manage.py collectstatic'", message)


class RerunTests(Tmp):
    def snapshot(self, root):
        return {
            str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    def test_second_collectstatic_without_changes_changes_nothing(self):
        src = self.write_tree(SOURCES)
        root, _ = self.collect(OURS, src)
        first = self.snapshot(root)
        root, out = self.collect(OURS, src, root=root)
        second = self.snapshot(root)
        self.assertIn("0 static files copied", out)
        self.assertEqual(sorted(second), sorted(first))  # same names, nothing new
        for name, (data, _) in first.items():
            self.assertEqual(second[name][0], data, name)
        # Not even rewritten: hashed files and their compressed siblings keep their mtimes.
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        for hashed in paths.values():
            for name in (hashed, hashed + ".gz"):
                if name in first:
                    self.assertEqual(second[name][1], first[name][1], name)


class FindstaticTests(Tmp):
    def test_findstatic_with_the_storage_set(self):
        src = self.write_tree(SOURCES)
        for debug in (False, True):
            out = StringIO()
            with (
                self.subTest(debug=debug),
                override_settings(
                    DEBUG=debug,
                    STORAGES=storages(OURS),
                    STATIC_ROOT=str(self.tmp / "unused"),
                    STATICFILES_DIRS=[src],
                ),
            ):
                call_command("findstatic", "css/a.css", "js/app.js", verbosity=1, stdout=out)
                self.assertIn(os.path.join(str(src), "css", "a.css"), out.getvalue())
                self.assertIn(os.path.join(str(src), "js", "app.js"), out.getvalue())


assert settings.configured
