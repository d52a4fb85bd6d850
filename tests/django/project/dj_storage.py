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
        self.assertIn("export * from './dep.", main)  # quoting kept as written

    def test_missing_reference_is_reported_not_fatal(self):
        src = self.write_tree(
            {
                "js/a.js": "var a = 1;\n\n//# sourceMappingURL=a.js.map\n",
                "css/s.css": "body {}\n.x { background: url(missing.png); }\n",
            }
        )
        with self.assertLogs("staticserve", logging.WARNING) as logs:
            root, out = self.collect(OURS_MANIFEST, dirs=[src], apps=False)
        text = "\n".join(logs.output)
        self.assertIn("js/a.js:3: reference to missing file 'a.js.map'", text)
        self.assertIn("css/s.css:2: reference to missing file 'missing.png'", text)
        paths = json.loads((root / "staticfiles.json").read_text())["paths"]
        self.assertIn("sourceMappingURL=a.js.map", (root / paths["js/a.js"]).read_text())
        self.assertIn("2 post-processed", out)

    def test_missing_reference_strict(self):
        src = self.write_tree({"css/s.css": "body {}\n.x { background: url(missing.png); }\n"})
        with self.assertRaisesMessage(ValueError, "css/s.css:2: reference to missing file"):
            self.collect(OURS_MANIFEST, dirs=[src], apps=False, strict_references=True)

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
