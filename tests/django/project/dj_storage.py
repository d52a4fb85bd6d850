"""The storages against Django's own ManifestStaticFilesStorage, on the same input."""

import json
import logging
import shutil
import tempfile
from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test import SimpleTestCase, override_settings

DJANGO_MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
OURS_MANIFEST = "staticserve.django.storage.CompressedManifestStaticFilesStorage"
OURS_PLAIN = "staticserve.django.storage.CompressedStaticFilesStorage"
PROJECT_STATIC = Path(settings.BASE_DIR, "static")


def storages(backend, **options):
    conf = {"BACKEND": backend}
    if options:
        conf["OPTIONS"] = options
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": conf,
    }


class StorageTests(SimpleTestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.tmp)

    def collect(self, backend, dirs=None, apps=True, **options):
        root = self.tmp / f"root{len(list(self.tmp.iterdir()))}"
        installed = settings.INSTALLED_APPS if apps else ["django.contrib.staticfiles"]
        out = StringIO()
        # Options as STATICSERVE_* settings: Django 4.2's override_settings drops
        # STORAGES' OPTIONS for staticfiles (its STATICFILES_STORAGE sync).
        as_settings = {"STATICSERVE_" + k.upper(): v for k, v in options.items()}
        with override_settings(
            STATIC_ROOT=str(root),
            STORAGES=storages(backend),
            **as_settings,
            STATICFILES_DIRS=dirs if dirs is not None else settings.STATICFILES_DIRS,
            INSTALLED_APPS=installed,
            STATICSERVE_COMPRESS_WORKERS=1,
        ):
            call_command("collectstatic", interactive=False, verbosity=1, stdout=out)
        return root, out.getvalue()

    def write_tree(self, files):
        src = self.tmp / f"src{len(list(self.tmp.iterdir()))}"
        for name, text in files.items():
            path = src / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return src

    def test_same_names_and_manifest_as_django(self):
        src = self.write_tree(
            {
                "css/a.css": '@import "b.css";\nbody { background: url("../img/x.png?v=1#f"); }\n'
                "/*# sourceMappingURL=a.css.map */\n",
                "css/a.css.map": '{"version": 3, "sources": []}',
                "css/b.css": "p { background: url(../img/x.png); }\n" * 30
                + '@font-face { src: url("../fonts/f.woff2?#iefix"); }\n',
                "img/x.png": "not really a png",
                "fonts/f.woff2": "font",
                "js/app.js": "console.log(1);\n//# sourceMappingURL=app.js.map\n",
                "js/app.js.map": "{}",
            }
        )
        theirs, _ = self.collect(DJANGO_MANIFEST, dirs=[src], apps=False)
        ours, out = self.collect(OURS_MANIFEST, dirs=[src], apps=False)
        their_manifest = json.loads((theirs / "staticfiles.json").read_text())
        our_manifest = json.loads((ours / "staticfiles.json").read_text())
        self.assertEqual(our_manifest["paths"], their_manifest["paths"])
        self.assertEqual(our_manifest["hash"], their_manifest["hash"])
        self.assertEqual(our_manifest["version"], their_manifest["version"])
        for hashed in their_manifest["paths"].values():
            self.assertEqual((ours / hashed).read_bytes(), (theirs / hashed).read_bytes())
        # "N post-processed" counts each file once.
        self.assertIn("7 static files copied", out)
        self.assertIn("7 post-processed", out)
        # Extra data per served file, and compressed siblings.
        entry = our_manifest["files"][our_manifest["paths"]["css/a.css"]]
        self.assertEqual(entry["content_type"], "text/css; charset=utf-8")
        self.assertTrue(entry["integrity"].startswith("sha384-"))
        self.assertTrue((ours / our_manifest["paths"]["css/b.css"]).with_suffix(".css.gz").exists())
        self.assertFalse((ours / "img/x.png.gz").exists())

    def test_es_modules_rewritten(self):
        root, _ = self.collect(OURS_MANIFEST)
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        main = (root / paths["app_one/es/main.js"]).read_text()
        for name in ("dep", "side", "lazy"):
            hashed = paths[f"app_one/es/{name}.js"].rsplit("/", 1)[1]
            self.assertIn(f"./{hashed}", main)
        self.assertIn(f'from "/static/{paths["vendor/lib.js"]}"', main)
        self.assertIn('from "bare-module"', main)  # bare specifiers are module names
        self.assertIn('export * from "./dep.', main)  # Django's quoting normalisation

    BROKEN = {
        "css/site.css": 'p { color: red }\n@import "theme.css";\n'
        'body { background: url("../img/gone.png"); }\n',
        "js/app.js": 'import { a } from "./lib/a.js";\nconsole.log(a);\n',
        "js/ok.js": "var ok = 1;\n//# sourceMappingURL=ok.js.map\n",
    }
    THREE = [
        "  css/site.css:2:10: reference to missing file 'theme.css' (css/theme.css)",
        "  css/site.css:3:25: reference to missing file '../img/gone.png' (img/gone.png)",
        "  js/app.js:1:20: reference to missing file './lib/a.js' (js/lib/a.js)",
    ]

    def test_missing_references_stop_collectstatic_naming_every_one(self):
        src = self.write_tree(self.BROKEN)
        with self.assertRaises(ValueError) as caught:
            self.collect(OURS_MANIFEST, dirs=[src], apps=False)
        report = str(caught.exception).splitlines()
        self.assertEqual(report[0], "3 references to missing files:")
        self.assertEqual(report[1:4], self.THREE)
        # The missing source map is listed, apart, as not fatal.
        self.assertIn("not fatal", report[4])
        self.assertEqual(
            report[5], "  js/ok.js:2:22: reference to missing file 'ok.js.map' (js/ok.js.map)"
        )
        fix = (
            'To deploy anyway, leaving them as written, set STATICSERVE_MISSING_REFERENCES = "warn"'
        )
        self.assertEqual(report[6], fix)

    def test_missing_references_error_is_what_collectstatic_reports(self):
        src = self.write_tree(self.BROKEN)
        root = self.tmp / "root"
        err = StringIO()
        with (
            override_settings(
                STATIC_ROOT=str(root),
                STORAGES=storages(OURS_MANIFEST),
                STATICFILES_DIRS=[src],
                INSTALLED_APPS=["django.contrib.staticfiles"],
            ),
            self.assertRaises(ValueError),
        ):
            call_command("collectstatic", interactive=False, verbosity=0, stderr=err)
        # Django's own line, naming every file with a broken reference.
        self.assertEqual(err.getvalue(), "Post-processing 'css/site.css, js/app.js' failed!\n\n")
        self.assertFalse((root / "staticfiles.json").exists())

    def test_missing_references_warn_setting_lets_collectstatic_through(self):
        src = self.write_tree(self.BROKEN)
        with self.assertLogs("staticserve", logging.WARNING) as logs:
            root, out = self.collect(
                OURS_MANIFEST, dirs=[src], apps=False, missing_references="warn"
            )
        (report,) = [r.getMessage() for r in logs.records if "missing files" in r.getMessage()]
        lines = report.splitlines()
        self.assertEqual(lines[0], "staticserve: 4 references to missing files (left as written):")
        self.assertEqual(lines[1:4], self.THREE)
        self.assertEqual(
            lines[4], "  js/ok.js:2:22: reference to missing file 'ok.js.map' (js/ok.js.map)"
        )
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        self.assertIn('@import "theme.css"', (root / paths["css/site.css"]).read_text())
        self.assertIn("3 post-processed", out)

    def test_missing_reference_position_is_in_the_file_as_written(self):
        # Django's import pattern rewrites (and reformats) the first statement
        # before its export pattern meets the second one on the same line.
        line = "import{a}from'./dep.js';export{b}from'./gone.js';"
        src = self.write_tree({"js/dep.js": "export const a = 1;", "js/min.js": line + "\n"})
        with self.assertRaises(ValueError) as caught:
            self.collect(OURS_MANIFEST, dirs=[src], apps=False)
        column = line.index("./gone.js") + 1
        self.assertIn(
            f"  js/min.js:1:{column}: reference to missing file './gone.js'",
            str(caught.exception),
        )

    def test_missing_source_map_alone_only_warns(self):
        src = self.write_tree({"js/a.js": "var a = 1;\n\n//# sourceMappingURL=a.js.map\n"})
        with self.assertLogs("staticserve", logging.WARNING) as logs:
            root, _ = self.collect(OURS_MANIFEST, dirs=[src], apps=False)
        self.assertIn("js/a.js:3:22: reference to missing file 'a.js.map'", logs.output[0])
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        self.assertIn("sourceMappingURL=a.js.map", (root / paths["js/a.js"]).read_text())

    def test_missing_source_maps_error_setting_stops_collectstatic(self):
        src = self.write_tree({"js/a.js": "var a = 1;\n//# sourceMappingURL=a.js.map\n"})
        with self.assertRaisesMessage(ValueError, 'STATICSERVE_MISSING_SOURCE_MAPS = "warn"'):
            self.collect(OURS_MANIFEST, dirs=[src], apps=False, missing_source_maps="error")

    def test_bad_missing_references_value_is_a_configuration_error(self):
        from django.core.exceptions import ImproperlyConfigured

        with self.assertRaisesMessage(ImproperlyConfigured, "STATICSERVE_MISSING_REFERENCES"):
            self.collect(OURS_MANIFEST, dirs=[], apps=False, missing_references="ignore")

    def test_keep_only_hashed_files(self):
        src = self.write_tree({"css/s.css": "body { color: red }\n" * 40, "t.txt": "x"})
        root, _ = self.collect(OURS_MANIFEST, dirs=[src], apps=False, keep_only_hashed_files=True)
        manifest = json.loads((root / "staticfiles.json").read_text())
        hashed = manifest["paths"]["css/s.css"]
        self.assertFalse((root / "css/s.css").exists())
        self.assertTrue((root / hashed).exists())
        self.assertTrue((root / (hashed + ".gz")).exists())
        self.assertFalse((root / "css/s.css.gz").exists())
        self.assertEqual(sorted(manifest["files"]), sorted(manifest["paths"].values()))

    def test_manifest_strict_as_django(self):
        from django.contrib.staticfiles.storage import staticfiles_storage

        src = self.write_tree({"a.txt": "a"})
        root, _ = self.collect(OURS_MANIFEST, dirs=[src], apps=False)
        with override_settings(STATIC_ROOT=str(root), STORAGES=storages(OURS_MANIFEST)):
            self.assertRaisesMessage(
                ValueError, "Missing staticfiles manifest entry", staticfiles_storage.url, "b.txt"
            )
        with override_settings(
            STATIC_ROOT=str(root), STORAGES=storages(OURS_MANIFEST, manifest_strict=False)
        ):
            with self.assertRaises(ValueError):  # not in the manifest, not on disk
                staticfiles_storage.url("b.txt")
            self.assertRegex(staticfiles_storage.url("a.txt"), r"/static/a\.[0-9a-f]{12}\.txt")

    def test_compressed_static_files_storage(self):
        root, out = self.collect(OURS_PLAIN)
        self.assertTrue((root / "site.css.br").exists())
        self.assertTrue((root / "site.css.gz").exists())
        self.assertFalse((root / "img/dot.png.gz").exists())
        copied = int(out.split(" static files copied")[0].split()[-1])
        self.assertIn(f"{copied} post-processed", out)
